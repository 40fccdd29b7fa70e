//! Topics: tags and `include` / `exclude` filters through the real binary, with French,
//! Japanese and Greek text; the topic feeds keep the validator's rules; `export --tag`.
//!
//! [`Planet`] is the fixture the browser tests (`browser.rs`) load pages from too.

use std::path::{Path, PathBuf};

use crate::support::{Page, Site, run_tributary, stderr, stdout};

/// Stories `quotidien` publishes besides its advertisement: enough for three river pages.
pub const QUOTIDIEN_STORIES: usize = 44;

/// Three loopback sites and a folder holding the config and database:
/// - `quotidien` (French, topic `économie`, `exclude = ["publicité"]`): 44 stories, one of
///   them with a picture, and one advertisement the filter keeps out of the merged feeds;
/// - `wire` (English, topic `world`): one story of its own and one carried by `quotidien` too
///   (same link, same title), which becomes one story with two sources;
/// - `tokyo` (Japanese, topic `日本`, `include = ["/東京|大阪/"]`, full text): two stories about
///   Tokyo and Osaka, and one about Kyoto the filter leaves out; the Tokyo article's page has
///   a lead image (`og:image`, a PNG).
pub struct Planet {
    pub quotidien: Site,
    pub wire: Site,
    pub tokyo: Site,
    pub folder: tempfile::TempDir,
    pub config: PathBuf,
    pub port: u16,
}

/// An RSS 2.0 feed; `items` are (title, link, HTML description) and are dated an hour apart,
/// newest first, counting back from two hours ago.
fn rss(title: &str, site: &str, items: &[(String, String, String)]) -> Vec<u8> {
    let now = chrono::Utc::now();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>{title}</title><link>{site}/</link><description>{title}</description>\n"
    );
    for (index, (item_title, link, description)) in items.iter().enumerate() {
        let date = now - chrono::Duration::hours(2 + index as i64);
        xml.push_str(&format!(
            "<item><title>{item_title}</title><link>{link}</link><guid>{link}</guid>\
             <pubDate>{}</pubDate><description><![CDATA[{description}]]></description></item>\n",
            date.format("%a, %d %b %Y %H:%M:%S +0000")
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml.into_bytes()
}

impl Planet {
    pub fn start() -> Planet {
        let (quotidien, wire, tokyo) = (Site::start(), Site::start(), Site::start());
        let (q, w, t) = (quotidien.base(), wire.base(), tokyo.base());
        let shared_link = format!("{q}/monde/sommet-climat.html");
        let shared_title = "Sommet sur le climat : accord à Genève".to_string();
        let mut items = vec![(
            shared_title.clone(),
            shared_link.clone(),
            "<p>Les négociateurs ont trouvé un accord tard dans la nuit à Genève.</p>".into(),
        )];
        items.push((
            "Publicité : offre spéciale d'abonnement".into(),
            format!("{q}/offre.html"),
            "<p>Abonnez-vous dès aujourd'hui.</p>".into(),
        ));
        for index in 1..QUOTIDIEN_STORIES {
            let picture = if index == 1 {
                format!("<img src=\"{q}/images/photo.jpg\" alt=\"Le port de Bordeaux\">")
            } else {
                String::new()
            };
            items.push((
                format!("Économie n° {index} : le budget régional expliqué"),
                format!("{q}/economie/article-{index}.html"),
                format!(
                    "<p>Résumé n° {index} : les élus ont débattu du budget.</p>{picture}\
                     <p>Deuxième paragraphe, avec <a href=\"{q}/dossier.html\">un dossier</a>.</p>"
                ),
            ));
        }
        quotidien.set(
            "/feed.xml",
            Page::ok("application/rss+xml", rss("Le Quotidien", &q, &items)),
        );
        quotidien.set(
            "/images/photo.jpg",
            Page::ok("image/jpeg", vec![0xFF, 0xD8]),
        );
        let wire_items = [
            (
                shared_title,
                shared_link,
                "<p>Negotiators reached a deal late at night in Geneva.</p>".to_string(),
            ),
            (
                "Markets rally after the climate deal".to_string(),
                format!("{w}/markets-rally"),
                "<p>Stocks rose on Tuesday.</p>".to_string(),
            ),
        ];
        wire.set(
            "/rss.xml",
            Page::ok("application/rss+xml", rss("World Wire", &w, &wire_items)),
        );
        let tokyo_items = [
            (
                "東京で新しい駅が開業".to_string(),
                format!("{t}/tokyo-station"),
                "<p>東京の中心部に新しい駅が開業しました。</p>".to_string(),
            ),
            (
                "京都の紅葉が見頃".to_string(),
                format!("{t}/kyoto-leaves"),
                "<p>京都の寺院で紅葉が見頃を迎えています。</p>".to_string(),
            ),
            (
                "大阪万博の跡地計画".to_string(),
                format!("{t}/osaka-expo"),
                "<p>大阪湾の人工島の計画が発表されました。</p>".to_string(),
            ),
        ];
        let html = "text/html; charset=utf-8";
        let pages = [
            (
                "/tokyo-station",
                "東京で新しい駅が開業",
                "東京の中心部に新しい駅が開業しました、朝から多くの人が訪れました。",
                true,
            ),
            (
                "/kyoto-leaves",
                "京都の紅葉が見頃",
                "京都の寺院で紅葉が見頃を迎え、多くの観光客が訪れています。",
                false,
            ),
            (
                "/osaka-expo",
                "大阪万博の跡地計画",
                "大阪湾の人工島の計画が発表され、市民の関心が高まっています。",
                false,
            ),
        ];
        for (path, title, sentence, with_image) in pages {
            let image = with_image.then(|| format!("{t}/images/station.png"));
            tokyo.set(
                path,
                Page::ok(html, japanese_article(title, sentence, image)),
            );
        }
        tokyo.set("/images/station.png", Page::ok("image/png", lead_png()));
        tokyo.set(
            "/feed.xml",
            Page::ok("application/rss+xml", rss("東京ニュース", &t, &tokyo_items)),
        );
        let folder = tempfile::tempdir().unwrap();
        let port = crate::support::free_port();
        let config = folder.path().join("tributary.toml");
        std::fs::write(
            &config,
            planet_config(port, &q, &w, &t, "exclude = [\"publicité\"]"),
        )
        .unwrap();
        Planet {
            quotidien,
            wire,
            tokyo,
            folder,
            config,
            port,
        }
    }

    /// Runs `tributary` with the planet's config.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        run_tributary(self.folder.path(), &self.config, args)
    }

    /// Polls every source once; every poll must succeed.
    pub fn poll(&self) {
        let output = self.run(&["poll"]);
        assert!(output.status.success(), "{}", stderr(&output));
    }

    /// Every story title of the merged feed (JSON Feed), newest first.
    pub fn merged_titles(&self) -> Vec<String> {
        let output = self.run(&["export", "--format", "json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        titles(&stdout(&output))
    }

    /// Rewrites quotidien's filter line (e.g. to `""` to drop it).
    pub fn set_quotidien_filter(&self, filter: &str) {
        let (q, w, t) = (self.quotidien.base(), self.wire.base(), self.tokyo.base());
        std::fs::write(&self.config, planet_config(self.port, &q, &w, &t, filter)).unwrap();
    }

    pub fn folder(&self) -> &Path {
        self.folder.path()
    }
}

/// A Japanese article page; the Tokyo story's has an `og:image`. (Paragraphs of fewer than
/// about 60 CJK characters read as furniture to the extractor, so these are long.)
fn japanese_article(title: &str, sentence: &str, image: Option<String>) -> String {
    let image = image
        .map(|url| format!("<meta property=\"og:image\" content=\"{url}\">"))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         {image}</head><body><article><h1>{title}</h1>{}</article></body></html>",
        format!("<p>{}</p>", sentence.repeat(3)).repeat(5)
    )
}

/// The lead image: a 64 × 40 PNG, a gradient so it is visibly not blank.
pub fn lead_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 64, 40);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..40u32)
        .flat_map(|y| (0..64u32).flat_map(move |x| [(x * 4) as u8, (y * 6) as u8, 160]))
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    bytes
}

fn planet_config(port: u16, q: &str, w: &str, t: &str, quotidien_filter: &str) -> String {
    format!(
        "database = \"data/tributary.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         default_schedule = \"0 0 1 1 *\"\n\n[fetch]\nallow_private_networks = true\n\
         per_host_delay = \"5ms\"\ntimeout = \"5s\"\n\n[output]\ntitle = \"Planète\"\n\
         max_entries = 100\n\n\
         [[sources]]\nname = \"quotidien\"\nurl = \"{q}/feed.xml\"\nfull_text = false\n\
         tags = [\"économie\"]\n{quotidien_filter}\n\n\
         [[sources]]\nname = \"wire\"\nurl = \"{w}/rss.xml\"\nfull_text = false\n\
         tags = [\"world\"]\n\n\
         [[sources]]\nname = \"tokyo\"\nurl = \"{t}/feed.xml\"\nrespect_robots = false\n\
         tags = [\"日本\"]\ninclude = [\"/東京|大阪/\"]\n"
    )
}

fn titles(json_feed: &str) -> Vec<String> {
    let feed: serde_json::Value = serde_json::from_str(json_feed).expect("JSON Feed parses");
    feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn filters_keep_entries_out_of_the_merged_feed_but_stored_and_a_changed_filter_needs_no_fetch() {
    let planet = Planet::start();
    planet.poll();
    let titles = planet.merged_titles();
    assert_eq!(titles.len(), QUOTIDIEN_STORIES + 1 + 2, "{titles:?}");
    assert!(
        !titles.iter().any(|t| t.starts_with("Publicité")),
        "excluded"
    );
    assert!(!titles.iter().any(|t| t.contains("京都")), "not included");
    assert!(titles.iter().any(|t| t.contains("東京")) && titles.iter().any(|t| t.contains("大阪")));
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&planet.run(&["status", "--json"]))).unwrap();
    let stored: Vec<u64> = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|source| source["entries"].as_u64().unwrap())
        .collect();
    assert_eq!(
        stored,
        [QUOTIDIEN_STORIES as u64 + 1, 2, 3],
        "excluded entries are stored"
    );

    let requests = planet.quotidien.log().len();
    planet.set_quotidien_filter("exclude = [\"/BUDGET/\"]");
    let titles = planet.merged_titles();
    assert!(
        titles.iter().any(|t| t.starts_with("Publicité")),
        "{titles:?}"
    );
    assert!(!titles.iter().any(|t| t.contains("budget")), "{titles:?}");
    assert_eq!(
        planet.quotidien.log().len(),
        requests,
        "no fetch for a filter change"
    );
}

#[test]
fn topic_feeds_hold_their_sources_stories_and_keep_the_validators_rules() {
    let planet = Planet::start();
    planet.poll();
    let output = planet.run(&["export", "--format", "atom", "--tag", "日本"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let atom = stdout(&output);
    if let Err(problem) = crate::publish::check_well_formed(&atom) {
        panic!("{problem}\n{atom}");
    }
    let self_link = format!(
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"http://127.0.0.1:{}/tags/%E6%97%A5%E6%9C%AC.atom\"/>",
        planet.port
    );
    assert!(atom.contains(&self_link), "{atom}");
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let titles: Vec<&str> = feed.entries().iter().map(|e| e.title().as_str()).collect();
    assert_eq!(titles, ["東京で新しい駅が開業", "大阪万博の跡地計画"]);
    for entry in feed.entries() {
        assert!(!entry.authors().is_empty());
        let source = entry.source().expect("atom:source");
        assert!(source.links().iter().any(|link| link.rel() == "self"));
    }
    for date in crate::publish::element_texts(&atom, "updated") {
        assert!(chrono::DateTime::parse_from_rfc3339(&date).is_ok() && date.ends_with('Z'));
    }
    let rss = stdout(&planet.run(&["export", "--format", "rss", "--tag", "économie"]));
    crate::publish::check_well_formed(&rss).unwrap();
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    assert_eq!(
        channel.items().len(),
        QUOTIDIEN_STORIES,
        "the shared story counts once"
    );
    assert!(channel.title().ends_with("#économie"));
    let world = stdout(&planet.run(&["export", "--format", "json", "--tag", "world"]));
    assert_eq!(
        titles_sorted(&world),
        [
            "Markets rally after the climate deal",
            "Sommet sur le climat : accord à Genève"
        ]
    );
    let unknown = planet.run(&["export", "--format", "atom", "--tag", "sport"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no source has the tag \"sport\""),
        "{}",
        stderr(&unknown)
    );
}

fn titles_sorted(json_feed: &str) -> Vec<String> {
    let mut titles = titles(json_feed);
    titles.sort();
    titles
}

#[test]
fn a_bad_filter_or_tag_is_named_with_file_line_and_key() {
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    std::fs::write(
        &config,
        "[[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n\
         include = [\"ok\", \"/(unclosed/\"]\ntags = [\"two words\", \"Ελλάδα\"]\n",
    )
    .unwrap();
    let output = run_tributary(folder.path(), &config, &["check"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains(
            "tributary.toml:4: sources[0].include: \"/(unclosed/\" is not a valid pattern"
        ),
        "{errors}"
    );
    assert!(
        errors.contains("tributary.toml:5: sources[0].tags: \"two words\" is not a tag"),
        "{errors}"
    );
    assert!(!errors.contains("Ελλάδα"), "a Greek tag is fine: {errors}");
}
