//! Extraction cases on pages written for the project (French and English news styles), plus
//! robustness properties: arbitrary bytes, deep nesting and huge pages never panic.

use tributary::extract::{ExtractError, ExtractOptions, extract, extract_html};
use tributary::model::Article;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/extract/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn page_url() -> url::Url {
    url::Url::parse("https://news.example/section/story.html").unwrap()
}

fn check_extract(name: &str, options: &ExtractOptions) -> Article {
    extract(&fixture(name), None, &page_url(), options)
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn repeated_body_keeps_each_paragraph_once() {
    let article = check_extract("repeated_body_fr.html", &ExtractOptions::default());
    for opening in [
        "À Orléans, les bancs",
        "Les agriculteurs riverains",
        "« Nous n'avons jamais",
    ] {
        assert_eq!(
            occurrences(&article.text, opening),
            1,
            "{opening}\n{}",
            article.text
        );
    }
    assert!(!article.text.contains("Tous droits réservés"));
    assert!(!article.text.contains("Accueil"));
}

#[test]
fn headline_is_not_repeated_in_the_body() {
    let article = check_extract("repeated_body_fr.html", &ExtractOptions::default());
    assert_eq!(article.title.as_deref(), Some("La Loire à sec cet été"));
    assert!(
        !article.text.contains("La Loire à sec cet été"),
        "{}",
        article.text
    );
    assert!(!article.content_html.contains("<h1>"));
}

#[test]
fn other_articles_list_after_the_body_is_dropped() {
    let article = check_extract("link_lists_fr.html", &ExtractOptions::default());
    assert!(article.text.contains("Les sénateurs ont rejeté"));
    assert!(article.text.contains("a rappelé le rapporteur général."));
    assert!(
        !article.text.contains("Autres articles"),
        "{}",
        article.text
    );
    assert!(!article.text.contains("Grève à la SNCF"));
}

#[test]
fn inline_read_also_links_are_dropped_between_paragraphs() {
    let article = check_extract("link_lists_fr.html", &ExtractOptions::default());
    assert!(
        article
            .text
            .contains("trajectoire de déficit promise à Bruxelles.")
    );
    for pointer in [
        "Lire aussi",
        "Budget 2025 : ce qui change",
        "la motion de censure",
        "Read more",
        "five charts",
    ] {
        assert!(
            !article.text.contains(pointer),
            "{pointer}\n{}",
            article.text
        );
    }
    let blocks: Vec<&str> = article.text.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{blocks:?}");
}

#[test]
fn captions_and_credits_stay_out_of_the_text_but_in_figcaption() {
    let article = check_extract("captions_media_en.html", &ExtractOptions::default());
    assert!(
        !article.text.contains("The bridge at dawn on Monday"),
        "{}",
        article.text
    );
    assert!(!article.text.contains("Getty Images"));
    assert!(
        article
            .content_html
            .contains("<figcaption>The bridge at dawn on Monday.")
    );
    assert!(article.text.contains("eighteen months of repairs"));
}

#[test]
fn lazy_images_resolve_to_absolute_urls() {
    let options = ExtractOptions {
        video_hosts: vec!["www.youtube.com".to_string()],
        ..Default::default()
    };
    let article = check_extract("captions_media_en.html", &options);
    let html = &article.content_html;
    assert!(
        html.contains("src=\"https://news.example/images/bridge-wide.jpg\""),
        "{html}"
    );
    assert!(
        html.contains("src=\"https://news.example/images/deck-1200.jpg\""),
        "{html}"
    );
    assert!(
        html.contains("src=\"https://news.example/images/toll-booth.jpg\""),
        "{html}"
    );
    assert!(!html.contains("data:image"));
    assert!(html.contains("youtube.com/embed/abc123"));
    assert!(!html.contains("ads.example.net"));
}

#[test]
fn tables_lists_and_subheadings_inside_the_article_are_kept() {
    let article = check_extract("captions_media_en.html", &ExtractOptions::default());
    assert!(article.text.contains("Bicycles and pedestrians: free"));
    assert!(article.text.contains("2023\t12,500"), "{}", article.text);
    assert!(article.text.contains("What changes for drivers"));
    assert!(
        !article
            .text
            .contains("Harbour bridge reopens after repairs")
    );
    let html = &article.content_html;
    assert!(html.contains("<h2>What changes for drivers</h2>"), "{html}");
    assert!(html.contains("<li>Cars: two pounds, down from three</li>"));
    assert!(html.contains("<table>") && html.contains("<td>41,000</td>"));
    assert_eq!(
        article.metadata.site_name.as_deref(),
        Some("The Coast Herald")
    );
}

#[test]
fn structured_data_is_a_signal_not_the_answer() {
    let article = check_extract("structured_signals_en.html", &ExtractOptions::default());
    // The JSON-LD body is a truncated teaser: the page's full paragraphs win.
    assert!(
        article.text.contains("three thousand students"),
        "{}",
        article.text
    );
    assert!(
        article
            .text
            .contains("a single employee alone in the building.")
    );
    assert!(!article.text.contains("Subscribe to read more"));
    // Neither the teaser <article>s nor a stray itemprop=articleBody are taken as the body.
    assert!(!article.text.contains("Council tax to rise"));
    assert!(!article.text.contains("Short promotional blurb"));
    assert_eq!(article.metadata.author.as_deref(), Some("Sam Patel"));
    assert!(article.metadata.published.is_some());
}

#[test]
fn json_ld_body_is_the_last_resort_for_empty_pages() {
    let article = check_extract("json_ld_only_en.html", &ExtractOptions::default());
    assert!(article.text.contains("rendered by a script"));
    assert!(
        article
            .text
            .contains("\n\nThe structured data still carries")
    );
}

#[test]
fn empty_page_is_not_credible() {
    let result = extract_html(
        "<html><body><nav>Home</nav></body></html>",
        &page_url(),
        &ExtractOptions::default(),
    );
    assert!(matches!(result, Err(ExtractError::NothingCredible)));
}

const FRENCH_SENTENCE: &str =
    "Le président a déclaré : « Ça suffit », après l’échec des négociations à Genève.";

#[test]
fn legacy_charsets_decode_like_a_browser() {
    for name in [
        "meta_late_cp1252_fr.html",
        "undeclared_cp1252_fr.html",
        "bom_utf8_fr.html",
        "bom_utf16_fr.html",
    ] {
        let article = check_extract(name, &ExtractOptions::default());
        assert!(
            article.text.contains(FRENCH_SENTENCE),
            "{name}: {}",
            article.text
        );
    }
    let latin = "Le président a déclaré : \"Ça suffit\", après l'échec des négociations à Genève.";
    let article = check_extract("undeclared_latin1_fr.html", &ExtractOptions::default());
    assert!(article.text.contains(latin), "{}", article.text);
    let bytes = fixture("header_latin1_fr.html");
    let article = extract(
        &bytes,
        Some("text/html; charset=ISO-8859-1"),
        &page_url(),
        &ExtractOptions::default(),
    )
    .unwrap();
    assert!(article.text.contains(latin));
}

#[test]
fn content_selector_takes_that_subtree() {
    let options = ExtractOptions {
        content_selector: Some("div.sidebar".to_string()),
        ..Default::default()
    };
    let html = String::from_utf8(fixture("structured_signals_en.html")).unwrap();
    let html = html.replace("Short promotional blurb.", "Short promotional blurb, which the admin says is the real story on this site, and so the text to keep.");
    let article = extract_html(&html, &page_url(), &options).unwrap();
    assert_eq!(
        article.text,
        "Short promotional blurb, which the admin says is the real story on this site, and so the text to keep."
    );
}

#[test]
fn remove_selectors_drop_before_scoring() {
    let options = ExtractOptions {
        remove_selectors: vec!["p:nth-of-type(3)".to_string(), ".nonexistent".to_string()],
        ..Default::default()
    };
    let article = check_extract("structured_signals_en.html", &options);
    assert!(article.text.contains("three thousand students"));
    assert!(!article.text.contains("Staff unions"), "{}", article.text);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = fastrand::Rng::with_seed(7);
    let pieces = [
        "<div>",
        "</div>",
        "<p>",
        "<a href='x'>",
        "</a>",
        "<table><tr><td>",
        "<script>",
        "<!--",
        "<noscript><img src=a>",
        "&amp;",
        "\u{0}",
        "é",
        "<br>",
        " text, more words. ",
        "<figure><figcaption>",
        "<ul><li>",
        "<article>",
        "<meta charset=\"utf-16\">",
        "<h1>",
    ];
    for _ in 0..300 {
        let mut bytes: Vec<u8> = Vec::new();
        for _ in 0..rng.usize(0..200) {
            if rng.bool() {
                bytes.extend(pieces[rng.usize(..pieces.len())].as_bytes());
            } else {
                bytes.extend((0..rng.usize(0..20)).map(|_| rng.u8(..)));
            }
        }
        let _ = extract(&bytes, None, &page_url(), &ExtractOptions::default());
    }
}

#[test]
fn ten_thousand_deep_nesting_finishes() {
    for tag in [
        "div",
        "blockquote",
        "ul><li",
        "span",
        "table><tr><td",
        "b",
        "a href=x",
        "font",
        "p",
    ] {
        let open = format!("<{tag}>");
        let page = format!(
            "<html><body>{}{}</body></html>",
            open.repeat(10_000),
            "Deep paragraph text, with commas, long enough to count as a sentence. ".repeat(5)
        );
        let result = extract_html(&page, &page_url(), &ExtractOptions::default());
        if let Ok(article) = result {
            assert!(article.text.contains("Deep paragraph text"));
        }
    }
}

#[test]
fn multi_megabyte_page_finishes() {
    let paragraph = "<p>Un paragraphe de texte assez long, avec des virgules, pour ressembler à un article de presse ordinaire.</p>\n";
    let page = format!(
        "<html><body><div class=\"content\">{}</div></body></html>",
        paragraph.repeat(30_000)
    );
    assert!(page.len() > 3_000_000);
    let article = extract_html(&page, &page_url(), &ExtractOptions::default()).unwrap();
    // Identical paragraphs collapse to one.
    assert_eq!(occurrences(&article.text, "Un paragraphe de texte"), 1);
}

#[test]
fn comment_sections_stay_out_even_inside_the_article() {
    let article = check_extract("comments_en.html", &ExtractOptions::default());
    assert!(article.text.contains("century-old tram line"));
    assert!(article.text.contains("Monday morning."));
    assert!(!article.text.contains("Comments (3)"), "{}", article.text);
    assert!(!article.text.contains("thirty years"));
    assert!(!article.text.contains("civil debate"));
}

/// Issue 13, the wrong block: a live ticker's entries are classed "live-match-comment"; that
/// is the newsroom's running commentary, the article itself, so it is kept whole, while the
/// readers' comments under it still go.
#[test]
fn live_commentary_is_the_article_and_reader_comments_still_go() {
    let article = check_extract("live_commentary_en.html", &ExtractOptions::default());
    assert_kept_and_dropped(
        &article,
        &[
            "Full time at the Quay Road ground",
            "Millbrook pull one back",
            "Second goal for the hosts",
            "The opening goal comes from a quick throw-in",
            "Kick-off under grey skies",
        ],
        &["barely watch", "poor afternoon", "Reader comments"],
    );
}

/// Issue 13, multi-block articles: the body continues in sibling blocks of other classes
/// across headings, product boxes and ad slots; all of it stays, the furniture goes.
#[test]
fn listicle_blocks_across_headings_and_product_boxes_are_kept() {
    let article = check_extract("multi_block_listicle_en.html", &ExtractOptions::default());
    assert_kept_and_dropped(
        &article,
        &[
            "Winter is when most of us cook",
            "1. A heavy cast-iron pot",
            "A heavy pot holds its heat",
            "2. A digital probe thermometer",
            "The probe thermometer ended every argument",
            "A long serrated blade cuts",
            "None of these tools is essential",
        ],
        &[
            "Advertisement",
            "$89 at Kitchen Store",
            "Sign up for the newsletter",
            "The best air fryers",
            "All rights reserved",
        ],
    );
}

/// Issue 13, tail furniture: an "about us" paragraph, press contact, newsletter pitch and
/// legal notice under a press release are not the article.
#[test]
fn press_release_tail_furniture_is_dropped() {
    let article = check_extract("tail_furniture_press_fr.html", &ExtractOptions::default());
    for kept in [
        "À partir du lundi 5 janvier",
        "« Nous voulons offrir une vraie alternative",
        "sans aucune démarche supplémentaire.",
    ] {
        assert!(article.text.contains(kept), "{kept}\n{}", article.text);
    }
    for dropped in [
        "À propos de la Région",
        "La Région est la collectivité chargée",
        "Contact presse",
        "Abonnez-vous à notre lettre",
        "Mentions légales",
    ] {
        assert!(
            !article.text.contains(dropped),
            "{dropped}\n{}",
            article.text
        );
    }
}

/// Issue 13, tail furniture: a call for support, an app or mailing pitch and a contributors'
/// disclaimer close the page after the article; the article's own sentence about a donation,
/// earlier in the body, stays.
#[test]
fn appeals_and_disclaimers_after_the_article_are_dropped() {
    let article = check_extract(
        "tail_appeals_disclaimer_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "opened a second depot on the industrial estate",
            "asked to donate the lease anonymously",
            "a van will move stock between them daily.",
        ],
        &[
            "Support our journalism",
            "delivered to your inbox",
            "do not necessarily reflect",
        ],
    );
}

/// Issue 13, tail furniture: the page's metadata after the body, a label with a bare date or a
/// bare URL ("Mis à jour : 14/03/2026", "Lien court https://…"), whatever the label's words.
#[test]
fn metadata_lines_after_the_article_are_dropped() {
    let article = check_extract(
        "metadata_lines_after_body_fr.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "Après dix-huit mois de travaux",
            "si la fréquentation des premières semaines le justifie.",
        ],
        &[
            "Mis à jour",
            "14/03/2026",
            "Lien court",
            "mairie.example/a/8812",
        ],
    );
}

/// Issue 13, tail furniture where no class names it (hashed class names only): an affiliate
/// disclosure above the text and a closing "We are hiring" pitch under its heading. The
/// article's paragraphs stay.
#[test]
fn closing_pitches_without_class_names_are_dropped() {
    let article = check_extract("closing_pitches_en.html", &ExtractOptions::default());
    assert_kept_and_dropped(
        &article,
        &[
            "Last month we moved the message queue",
            "We mirrored every topic to the new cluster",
            "which is exactly how it should be when the preparation has been done properly.",
        ],
        &[
            "affiliate links",
            "We are hiring",
            "looking for two engineers",
        ],
    );
}

/// Issue 13, tail furniture inside the article's container, on the project's own blind-annotated
/// pages (`bench/extraction-dev4`): a "More local news" section of teaser cards after a body of
/// `<br>`-separated text, and a sign-up box (heading, one line, an e-mail form) after a
/// briefing. Every snippet of each page's annotation holds.
#[test]
fn teaser_sections_and_sign_up_boxes_after_the_body_are_dropped() {
    for name in ["a-plain-local-br-paragraphs", "a-nine-things-briefing"] {
        assert_annotation_holds(name, &[]);
    }
}

/// Issue 13, the wrong block, on a page of `bench/extraction-dev4`: a column of teaser cards
/// whose titles are `<div>`s holding a link (no heading tags), set before a short article
/// titled by a `<div>`. The cards' summaries neither win nor open the article as its
/// standfirst. (The photo credit inside the caption, also annotated, is not this rule's.)
#[test]
fn a_column_of_cards_titled_by_divs_is_not_the_article() {
    let article = assert_annotation_holds("a-short-news-latest-column", &["(Dispatch file photo)"]);
    // The column's last summary, right before the article's title, is no standfirst either.
    assert!(
        !article
            .text
            .contains("Crossings at Fourth and Ninth streets"),
        "{}",
        article.text
    );
}

/// Issue 13, multi-block articles on a page of `bench/extraction-dev4`: a round-up in four
/// chunks split by ad slots and a "Lesen Sie auch" box of cards, each a bare link over its
/// one-line summary; the cards are teasers, so the box stays out while every chunk stays.
#[test]
fn cards_titled_by_a_bare_link_are_teasers() {
    assert_annotation_holds("d-de-winterwanderungen", &[]);
}

/// Issue 13, tail furniture on a page of `bench/extraction-dev4`: a charity's press release
/// whose boilerplate comes under "About WaterBridge Trust", "About" and the publisher's name
/// rather than "About us": the text ends there.
#[test]
fn about_and_the_publishers_name_ends_a_press_release() {
    assert_annotation_holds("c-waterbridge-clinics", &[]);
}

/// Issue 13, tail furniture where the article's paragraphs sit directly in one `<div>` beside
/// the boxes that follow them (utility or hashed classes only): an author box, a sign-up box,
/// an appeal, related cards. Pages of `bench/extraction-dev4`.
#[test]
fn boxes_after_the_containers_own_paragraphs_are_dropped() {
    for name in ["d-de-tail-mietspiegel", "d-tail-hashed-bees-study"] {
        assert_annotation_holds(name, &[]);
    }
}

/// Extracts a page of `bench/extraction-dev4` and checks its annotation: every `with` snippet
/// is in the text, every `without` snippet (but those in `not_checked`) is not. Returns the
/// article for further checks.
fn assert_annotation_holds(name: &str, not_checked: &[&str]) -> Article {
    let dir = format!("{}/bench/extraction-dev4", env!("CARGO_MANIFEST_DIR"));
    let html = std::fs::read(format!("{dir}/{name}.html")).unwrap();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/{name}.json")).unwrap()).unwrap();
    let article = extract(&html, None, &page_url(), &ExtractOptions::default())
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let collapse = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = collapse(&article.text);
    let snippets = |key: &str| -> Vec<String> {
        truth[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|snippet| collapse(snippet.as_str().unwrap()))
            .filter(|snippet| !not_checked.contains(&snippet.as_str()))
            .collect()
    };
    for kept in snippets("with") {
        assert!(text.contains(&kept), "{name}: {kept}\n{text}");
    }
    for dropped in snippets("without") {
        assert!(!text.contains(&dropped), "{name}: {dropped}\n{text}");
    }
    article
}

/// The tail boundary is a label, never a sentence: an article paragraph that merely opens with
/// "À propos de" in the second half keeps what follows it.
#[test]
fn a_sentence_opening_like_a_tail_label_does_not_cut_the_article() {
    let paragraphs = [
        "Le conseil municipal a adopté mardi soir le budget de l'année prochaine, après un débat de plus de trois heures sur les investissements prévus dans les écoles et les transports.",
        "La majorité a défendu une hausse mesurée des dépenses d'entretien, tandis que l'opposition réclamait un plan plus ambitieux pour la rénovation énergétique des bâtiments publics.",
        "Les habitants présents dans la salle ont interrogé les élus sur le calendrier des travaux de la piscine, fermée depuis l'été dernier à cause d'une fuite importante.",
        "À propos de cette piscine, le maire a rappelé que les travaux commenceraient au printemps.",
        "Le chantier devrait durer six mois, et la réouverture est espérée pour la rentrée scolaire, a précisé l'adjoint chargé des sports devant une assemblée attentive.",
        "Le budget sera transmis à la préfecture dans les quinze jours, comme le prévoit la loi, avant sa publication au recueil des actes administratifs de la commune.",
    ];
    let body: String = paragraphs
        .iter()
        .map(|text| format!("<p>{text}</p>\n"))
        .collect();
    let page = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Budget</title></head>\
         <body><article><h1>Le budget adopté</h1>{body}</article></body></html>"
    );
    let article = extract(
        page.as_bytes(),
        None,
        &page_url(),
        &ExtractOptions::default(),
    )
    .unwrap();
    for kept in [
        "À propos de cette piscine",
        "Le chantier devrait durer",
        "recueil des actes",
    ] {
        assert!(article.text.contains(kept), "{kept}\n{}", article.text);
    }
}

/// Issue 13, the wrong block: a column of linked teasers with more text than the story must
/// not win over the story.
#[test]
fn larger_link_heavy_block_does_not_win_over_the_story() {
    let article = check_extract("wrong_block_link_heavy_en.html", &ExtractOptions::default());
    for kept in [
        "The town council voted on Tuesday night",
        "signed by more than two thousand residents",
        "paid from the culture budget.",
    ] {
        assert!(article.text.contains(kept), "{kept}\n{}", article.text);
    }
    for dropped in [
        "Bridge repairs delayed",
        "The repairs on the old river bridge",
    ] {
        assert!(
            !article.text.contains(dropped),
            "{dropped}\n{}",
            article.text
        );
    }
}

/// A paragraph long enough to score as article text, opening with `words`.
fn paragraph(words: &str) -> String {
    format!(
        "<p>{words}, which is explained here at some length, with an example, a caveat and a note on history.</p>"
    )
}

/// Documentation generators give each section an id made from its heading; a heading such as
/// "Sharing changes" must not read as a share bar and take its section out.
#[test]
fn section_ids_spelled_from_headings_are_not_furniture_hints() {
    let html = format!(
        "<html><body><div class=\"content\"><div class=\"section\" id=\"guide\"><h1>Guide</h1>{}\
         <div class=\"section\" id=\"sharing-changes-with-a-team\"><h2>Sharing changes with a team</h2>{}{}</div>\
         <div class=\"section\" id=\"related-tools\"><h2>Related tools</h2>{}</div></div></div></body></html>",
        [
            "The guide starts with the basics",
            "Installing takes a minute",
            "Configuring takes another",
            "A first commit follows"
        ]
        .map(paragraph)
        .concat(),
        paragraph("Pushing a draft to a shared repository keeps it mutable"),
        paragraph("Reviewers pull the draft and amend it"),
        paragraph("Three other tools work the same way"),
    );
    let article = extract_html(&html, &page_url(), &ExtractOptions::default()).unwrap();
    for kept in [
        "The guide starts with the basics",
        "Pushing a draft to a shared repository",
        "Reviewers pull the draft",
        "Three other tools work the same way",
    ] {
        assert!(article.text.contains(kept), "{kept}\n{}", article.text);
    }
}

/// Documentation and blog generators wrap each section heading in a link to its own
/// `#fragment`; such a heading titles a section of this page and stays, while a heading that
/// links to another page (a teaser) still reads as a pointer.
#[test]
fn headings_linking_to_their_own_section_are_kept() {
    let html = format!(
        "<html><body><article>{}<h3 id=\"z-scores\"><a class=\"anchor\" href=\"#z-scores\">Understanding z-scores</a></h3>{}\
         <h3><a href=\"https://elsewhere.example/other-story\">Another story elsewhere</a></h3>{}</article></body></html>",
        [
            "Anomalies hide in server logs",
            "A threshold catches the obvious ones"
        ]
        .map(paragraph)
        .concat(),
        paragraph("A z-score counts standard deviations from the mean"),
        paragraph("The closing section sums it up"),
    );
    let article = extract_html(&html, &page_url(), &ExtractOptions::default()).unwrap();
    assert!(
        article.text.contains("Understanding z-scores"),
        "{}",
        article.text
    );
    assert!(
        !article.text.contains("Another story elsewhere"),
        "{}",
        article.text
    );
    assert!(
        article
            .text
            .contains("A z-score counts standard deviations")
    );
}

/// Issue 13, multi-block articles shown one item at a time: a listicle loads every item and a
/// script shows one. The hidden items of the series are the article's rest; a hidden modal
/// and hidden tab panels of the sidebar stay out.
#[test]
fn hidden_items_of_a_paginated_listicle_are_kept() {
    let article = check_extract(
        "multi_block_hidden_slides_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "Pulling thyme leaves off their stems",
            "The silicone rim of this lid settles",
            "Scales that weigh a pinch of salt",
            "They switch off after a minute",
            "carries chopped onions from the board",
        ],
        &[
            "Subscribe to our newsletter",
            "how to season a wok",
            "Most read",
        ],
    );
}

/// Asserts that the article's text holds every `kept` phrase and none of the `dropped` ones.
fn assert_kept_and_dropped(article: &Article, kept: &[&str], dropped: &[&str]) {
    for phrase in kept {
        assert!(article.text.contains(phrase), "{phrase}\n{}", article.text);
    }
    for phrase in dropped {
        assert!(!article.text.contains(phrase), "{phrase}\n{}", article.text);
    }
}

/// Issue 13, whole runs of text left out: the standfirst (deck, lead) sits in the article's
/// header next to the title, several levels away from the body's container. It is the
/// article's opening, so it stays, once, before the body; the kicker, the byline and the
/// photo caption around it stay out of the text.
#[test]
fn standfirst_outside_the_body_container_is_kept() {
    let article = check_extract(
        "standfirst_outside_body_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "Drills, ladders and sewing machines can now be borrowed",
            "The idea came from two neighbours",
            "gives a discount to borrowers",
        ],
        &[
            "By Ann Example",
            "Community",
            "on its opening day",
            "Contact",
        ],
    );
    assert_eq!(occurrences(&article.text, "Drills, ladders"), 1);
    let deck = article.text.find("Drills, ladders").unwrap();
    let body = article.text.find("The idea came from").unwrap();
    assert!(deck < body, "{}", article.text);
}

/// The standfirst rule looks only at the nearest block of text before the body, and never
/// at a list: a teaser of another story further up the page's column stays out.
#[test]
fn a_teaser_before_the_body_is_not_taken_for_a_standfirst() {
    let article = check_extract(
        "standfirst_not_a_teaser_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "From Monday the first ferry",
            "season tickets can now be bought",
        ],
        &["The lighthouse on the northern cape"],
    );
}

/// A standfirst of two paragraphs (a lead, an abstract) in a wrapper of its own: the whole
/// wrapper stays, not only the paragraph next to the body.
#[test]
fn a_standfirst_of_several_paragraphs_is_kept_whole() {
    let article = check_extract(
        "standfirst_two_paragraphs_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "After twelve years without them, sleeper trains",
            "The operator expects most passengers",
            "The carriages are not new",
            "arrives at the coast a little after seven",
        ],
        &[],
    );
}

/// A deck set as a subtitle (`<h2>`) right under the title reads like a sentence, unlike a
/// section heading: it is the article's opening and stays, before the body, once. The section
/// heading inside the body stays too; the kicker, the byline and the date line next to the
/// deck stay out.
#[test]
fn a_deck_set_as_a_subtitle_under_the_title_is_kept() {
    let article = check_extract(
        "standfirst_subtitle_under_title_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "Three routes will run every hour between midnight and five",
            "The last night bus left the valley",
            "How the routes run",
            "call a taxi for anyone",
        ],
        &[
            "By Sam Placeholder",
            "Published 3 April",
            "A test run at the depot",
            "Contact",
        ],
    );
    assert_eq!(occurrences(&article.text, "Three routes will run"), 1);
    let deck = article.text.find("Three routes will run").unwrap();
    let body = article.text.find("The last night bus").unwrap();
    assert!(deck < body, "{}", article.text);
}

/// A deck of one short sentence right under the title (shorter than the standfirst rule's
/// minimum) is kept; the date line between it and the body, which is no sentence, is not.
#[test]
fn a_short_deck_right_under_the_title_is_kept() {
    let article = check_extract("standfirst_short_deck_en.html", &ExtractOptions::default());
    assert_kept_and_dropped(
        &article,
        &[
            "The organisers blame the heat of the last two summers.",
            "For thirty years the festival",
            "the second weekend of September",
        ],
        &["Updated 9 May", "Contact"],
    );
}

/// A page may mark the article's paragraphs behind its paywall with a `paywall` class (the
/// text ships whole) and split the body into chunks between ad rails: the run of marked
/// paragraphs is the article, across every chunk, while the subscription pitch, a run of
/// related-story links and the reader comments (runs of paragraphs too) stay out.
#[test]
fn paragraphs_marked_with_a_paywall_class_are_the_article() {
    let article = check_extract(
        "paywall_marked_paragraphs_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "When the first tram rolled out of the new depot",
            "The route runs eleven kilometres from the harbour",
            "Its cost grew from an estimate of ninety million",
            "Engineers say the second design was the better one",
            "The council declined to comment on the final bill.",
            "Residents along the route are divided.",
        ],
        &[
            "Subscribe for one euro a week",
            "Bus lanes on the ring road",
            "I have waited for this line",
            "Three hundred million for eleven kilometres is a scandal",
            "Most popular",
            "Advertisement",
        ],
    );
}

/// Short boxes after the article's body inside its container (a call to chip in, a "spotted a
/// mistake?" box, a topic line) close the page as furniture, whatever words they use; the
/// section that continues the article under a heading, and the body's own short last
/// paragraph, stay.
#[test]
fn short_boxes_after_the_body_are_left_out() {
    let article = check_extract("tail_boxes_after_body_en.html", &ExtractOptions::default());
    assert_kept_and_dropped(
        &article,
        &[
            "The night ferry to the outer islands sails again",
            "The operator said bookings for the first week",
            "What changes for cars",
            "Vehicles must now be booked a day ahead",
        ],
        &[
            "Independent local reporting costs money",
            "Spotted a mistake?",
            "press Ctrl+Enter",
        ],
    );
}

/// The third kind, "the wrong block": a short article under the page's only `<h1>`,
/// after a longer column of link-led walk notes that wins on points. The box after the winning
/// block is short, but it holds the title: it is the article, never furniture after the body.
/// The column, paragraphs each led by a link to another page, is a teaser run: it neither wins
/// nor stays beside the article as a block that reads like paragraphs.
#[test]
fn a_short_titled_article_after_a_longer_block_is_not_cut_as_a_box() {
    let article = check_extract(
        "title_block_after_longer_links_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "Dredging of the inner harbour began on Monday morning",
            "Two barges will work in shifts",
            "The port expects larger ferries",
        ],
        &[
            "Coastal walk number",
            "A walk along the coast path",
            "rewards the walker with a view",
        ],
    );
}

/// The wrong block in another shape: a "latest news" list of items, each a linked headline
/// and a summary, longer than the short press release under the page's `<h1>` after it. The
/// list is a teaser run (items led by links to other pages): the release is the article.
#[test]
fn a_teaser_list_before_a_short_release_is_left_out() {
    let article = check_extract(
        "teaser_list_before_short_release_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "Northfield Library will open until six on Saturdays",
            "The longer hours follow a survey",
            "Staff hours will be covered by a rota",
        ],
        &[
            "Latest news",
            "Road resurfacing on Mill Lane",
            "Residents of blocks with shared bins",
            "The waiting list for the town allotments",
        ],
    );
}

/// A furniture class on the page's layout wrapper ("layout-with-sidebar", "sticky-ads-container")
/// names the layout, not the block: the wrapper holds the article (an `<article>` or a
/// content-classed block of prose), so it stays, and the article wins over the longer box of
/// teaser cards after it, which stays out (it opens with a heading but is cards, each titled
/// by a link to another story, not a section of the article).
#[test]
fn a_furniture_class_on_the_layout_wrapper_keeps_the_article() {
    for name in [
        "layout_wrapper_weak_class_en.html",
        "layout_wrapper_strong_class_en.html",
    ] {
        let article = check_extract(name, &ExtractOptions::default());
        assert_kept_and_dropped(
            &article,
            &[
                "will spend forty million on new mains in the valley",
                "Work starts in the spring at the reservoir end",
                "We know people have waited too long",
            ],
            &[
                "Around the region",
                "The operator cuts two crossings a day",
                "open on Sunday afternoons",
                "Advertisement",
            ],
        );
    }
}

/// A list of links with words of their own between the article's paragraphs (a press review,
/// the documents the text introduces) is the article's; a table of contents and a list of
/// other stories, links and nothing else, are not.
#[test]
fn a_link_list_cited_in_the_articles_flow_is_kept() {
    let article = check_extract(
        "link_list_cited_in_flow_en.html",
        &ExtractOptions::default(),
    );
    assert_kept_and_dropped(
        &article,
        &[
            "The press has followed it closely:",
            "11 December 2026, Evening Courier: how the strike fund pays strikers",
            "7 December 2026, City Journal: the strikers counting on solidarity",
            "Payments will be made in order of the days lost",
            "the union will publish its accounts",
        ],
        &[
            "Contents",
            "Accounts",
            "Rail strike enters its fourth week",
            "Drivers vote on the new offer",
        ],
    );
}
