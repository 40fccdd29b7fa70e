//! Near-duplicate matching on realistic news texts: wire copy republished, truncated, and
//! different stories on one topic sharing a site's boilerplate.

use tributary::dedupe::{
    SAME_STORY, canonical_url, fingerprint, fingerprint_html, is_same_story, similarity,
};

/// A wire story as a French site in UTF-8 carries it: curly apostrophes, guillemets with
/// non-breaking spaces.
pub(crate) const WIRE_FR_SITE_A: &str = "Les députés ont adopté mardi, en première lecture, le projet de loi \
sur la revalorisation des petites retraites agricoles, à l’issue d’un débat de plus de dix heures \
à l’Assemblée nationale.\n\n\
Le texte prévoit de porter le minimum de pension des anciens exploitants à 85\u{a0}% du salaire \
minimum net à partir du 1er janvier, une mesure qui concernerait environ 220\u{a0}000 retraités, \
selon le ministère de l’Agriculture.\n\n\
«\u{a0}C’est une mesure de justice pour celles et ceux qui ont nourri le pays toute leur vie\u{a0}», \
a déclaré le ministre devant l’hémicycle, saluant un vote «\u{a0}transpartisan\u{a0}».\n\n\
L’opposition de gauche a jugé le texte insuffisant, réclamant une prise en compte des conjoints \
collaborateurs, souvent des femmes, dont les pensions restent très inférieures. Plusieurs \
amendements en ce sens ont été rejetés dans la nuit.\n\n\
Le coût de la réforme est estimé à 350\u{a0}millions d’euros par an. Le projet de loi doit \
désormais être examiné par le Sénat au printemps.";

/// The same wire story on a second site, decoded from ISO-8859-1: straight quotes, ordinary
/// spaces, a reworded attribution, an extra sentence and a credit line.
pub(crate) const WIRE_FR_SITE_B: &str = "Les députés ont adopté mardi, en première lecture, le projet de loi \
sur la revalorisation des petites retraites agricoles, à l'issue d'un débat de plus de dix heures \
à l'Assemblée nationale. Un vote attendu de longue date par les syndicats agricoles.\n\
Le texte prévoit de porter le minimum de pension des anciens exploitants à 85 % du salaire \
minimum net à partir du 1er janvier, une mesure qui concernerait environ 220 000 retraités, \
selon le ministère de l'Agriculture.\n\
\"C'est une mesure de justice pour celles et ceux qui ont nourri le pays toute leur vie\", \
a affirmé le ministre devant l'hémicycle, saluant un vote \"transpartisan\".\n\
L'opposition de gauche a jugé le texte insuffisant, réclamant une prise en compte des conjoints \
collaborateurs, souvent des femmes, dont les pensions restent très inférieures. Plusieurs \
amendements en ce sens ont été rejetés dans la nuit.\n\
Le coût de la réforme est estimé à 350 millions d'euros par an. Le projet de loi doit \
désormais être examiné par le Sénat au printemps.\n\
(Avec AFP)";

/// Another story of site A on the same topic, ending with the site's boilerplate.
pub(crate) const OTHER_FR_SAME_TOPIC: &str = "Dans les campagnes, la revalorisation des retraites agricoles \
est accueillie avec prudence. À Saint-Flour, dans le Cantal, Jeanne, 78 ans, a tenu pendant \
quarante ans une exploitation laitière avec son mari. «\u{a0}On verra quand l’argent arrivera sur \
le compte\u{a0}», dit-elle, assise dans sa cuisine.\n\n\
Comme beaucoup de conjointes d’exploitants, elle n’a jamais eu de statut avant les années 1990 \
et perçoit aujourd’hui moins de 700\u{a0}euros par mois. La réforme votée par les députés ne \
changera rien à sa situation, regrette la fédération départementale des retraités agricoles.\n\n\
Les élus locaux, eux, demandent que le Sénat aille plus loin lors de l’examen du texte au \
printemps.\n\n\
Cet article vous est proposé par la rédaction de notre journal régional. Retrouvez toute \
l’actualité de votre département dans notre newsletter quotidienne, gratuite et sans engagement.";

/// A short story of site A that is mostly the same boilerplate.
const SHORT_FR_WITH_BOILERPLATE: &str = "Le Sénat examinera au printemps le projet de loi sur les \
retraites agricoles adopté mardi par les députés, a annoncé la présidence de la chambre haute. \
Cet article vous est proposé par la rédaction de notre journal régional. Retrouvez toute \
l’actualité de votre département dans notre newsletter quotidienne, gratuite et sans engagement.";

const WIRE_EN_SITE_A: &str = "Dock workers at the country's three largest container ports walked \
off the job on Monday, halting most cargo traffic as talks over pay and automation broke down \
for the second time this month.\n\n\
The union representing about 14,000 workers said the strike would last at least 48 hours and \
could be extended if port operators did not return to the table with a \"serious offer\" on \
wages, which it said had fallen behind inflation for three years.\n\n\
Port operators said they had offered a 9% rise over two years and guarantees that no jobs would \
be lost to automated cranes before 2030. \"We remain ready to talk at any time,\" a spokeswoman \
for the employers' association said.\n\n\
Shipping analysts warned that a prolonged stoppage could delay deliveries of consumer goods ahead \
of the holiday season, with dozens of vessels already waiting at anchor.";

/// The same wire story on an English site with curly quotes, a credit line and one paragraph
/// dropped.
const WIRE_EN_SITE_B: &str = "Dock workers at the country’s three largest container ports walked \
off the job on Monday, halting most cargo traffic as talks over pay and automation broke down \
for the second time this month.\n\n\
The union representing about 14,000 workers said the strike would last at least 48 hours and \
could be extended if port operators did not return to the table with a “serious offer” on \
wages, which it said had fallen behind inflation for three years.\n\n\
Shipping analysts warned that a prolonged stoppage could delay deliveries of consumer goods ahead \
of the holiday season, with dozens of vessels already waiting at anchor.\n\n\
Reporting by Staff Writers; Editing by the News Desk";

const OTHER_EN_SAME_TOPIC: &str = "Retailers on Monday urged the government to intervene in the \
dock workers' strike, warning that empty shelves could follow within weeks if the stoppage at \
the country's container ports continued.\n\n\
The retail federation said its members had already diverted some shipments to smaller ports and \
to rail freight from neighbouring countries, at a cost it estimated at several million a day. \
\"Every day of strike adds to the bill that consumers will pay,\" its chief executive said.\n\n\
The union representing dock workers dismissed the call as an attempt to pressure workers, and \
said it was open to mediation. The transport ministry said it was following the situation \
closely but had no plans to impose a settlement.";

fn print(text: &str) -> tributary::dedupe::Fingerprint {
    fingerprint(text).expect("long enough to fingerprint")
}

#[test]
fn french_wire_copy_on_two_sites_is_one_story() {
    let site_a = print(WIRE_FR_SITE_A);
    let site_b = print(WIRE_FR_SITE_B);
    let score = similarity(&site_a, &site_b);
    assert!(score >= 0.8, "{score}");
    assert!(is_same_story(&site_a, &site_b));
    assert_eq!(similarity(&site_a, &site_b), similarity(&site_b, &site_a));
}

#[test]
fn a_truncated_republication_is_the_same_story() {
    let first_two_paragraphs: String = WIRE_FR_SITE_B
        .split('\n')
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    let truncated = print(&first_two_paragraphs);
    assert!(is_same_story(&truncated, &print(WIRE_FR_SITE_A)));
}

#[test]
fn different_french_stories_on_one_topic_sharing_boilerplate_are_not_merged() {
    let wire = print(WIRE_FR_SITE_A);
    let other = print(OTHER_FR_SAME_TOPIC);
    let short = print(SHORT_FR_WITH_BOILERPLATE);
    for (left, right) in [(&wire, &other), (&wire, &short), (&other, &short)] {
        let score = similarity(left, right);
        assert!(score < SAME_STORY, "{score}");
    }
    // The two stories carrying the boilerplate do share something, just not enough.
    assert!(similarity(&other, &short) > 0.0);
}

#[test]
fn english_wire_copy_with_a_dropped_paragraph_is_one_story() {
    let site_a = print(WIRE_EN_SITE_A);
    let site_b = print(WIRE_EN_SITE_B);
    assert!(
        is_same_story(&site_a, &site_b),
        "{}",
        similarity(&site_a, &site_b)
    );
    let other = print(OTHER_EN_SAME_TOPIC);
    assert!(similarity(&site_a, &other) < 0.1);
    assert!(similarity(&site_b, &other) < 0.1);
}

#[test]
fn html_and_plain_text_of_one_story_agree() {
    let html: String = WIRE_FR_SITE_A
        .split("\n\n")
        .map(|paragraph| format!("<p>{}</p>", paragraph.replace('’', "&rsquo;")))
        .collect();
    let from_html = fingerprint_html(&html).unwrap();
    assert_eq!(similarity(&from_html, &print(WIRE_FR_SITE_A)), 1.0);
}

#[test]
fn teasers_are_too_short_to_fingerprint() {
    assert!(fingerprint("Les députés adoptent la réforme des retraites agricoles.").is_none());
}

#[test]
fn fingerprints_survive_storage() {
    let original = print(WIRE_EN_SITE_A);
    let stored = original.to_bytes();
    let restored = tributary::dedupe::Fingerprint::from_bytes(&stored).unwrap();
    assert_eq!(restored, original);
}

#[test]
fn tracking_variants_of_one_link_share_a_canonical_url() {
    let from_rss = canonical_url(
        "https://site-a.example/politique/retraites-agricoles-1234.html?utm_source=rss&utm_medium=feed",
    );
    let from_atom = canonical_url(
        "https://SITE-A.example:443/politique/retraites-agricoles-1234.html?xtor=RSS-12&fbclid=AbC#reactions",
    );
    assert!(from_rss.is_some());
    assert_eq!(from_rss, from_atom);
}
