//! Vocabulary of page furniture in several languages: class/id tokens and block phrases.
//!
//! Kept in one place so the heuristics read as rules, and so the word lists can grow without
//! touching the scoring code. Nothing here names a particular site.

/// What an element's `class` and `id` say about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassHints {
    /// Almost never article text (comments, share bars, related links, cookie banners).
    pub strong_negative: bool,
    /// Usually furniture (header, sidebar, menu), but sometimes wraps the whole page.
    pub weak_negative: bool,
    pub positive: bool,
    /// A photo caption or credit.
    pub caption: bool,
    /// Reader comments: never rescued by a positive hint ("article-comments").
    pub comments: bool,
}

/// Token prefixes of reader comment sections.
const COMMENT_PREFIXES: &[&str] = &[
    "comment",
    "komment",
    "koment",
    "commentaire",
    "comentario",
    "disqus",
    "respond",
    "reply",
];

/// Token prefixes of blocks that are never the article.
const STRONG_NEGATIVE_PREFIXES: &[&str] = &[
    "comment",
    "komment",
    "koment",
    "commentaire",
    "comentario",
    "disqus",
    "respond",
    "share",
    "sharing",
    "sharer",
    "social",
    "teilen",
    "partage",
    "compartir",
    "cookie",
    "consent",
    "gdpr",
    "newsletter",
    "subscri",
    "abonn",
    "suscri",
    "assinatura",
    "paywall",
    "related",
    "relacionad",
    "correlat",
    "verwandt",
    "similar",
    "recommend",
    "empfehl",
    "recirc",
    "outbrain",
    "taboola",
    "advert",
    "anzeige",
    "werbung",
    "publicidad",
    "sponsor",
    "promo",
    "breadcrumb",
    "popular",
    "trending",
    "mostread",
    "meistgelesen",
    "byline",
    "dateline",
    "author",
    "autor",
    "auteur",
    "timestamp",
    "tagcloud",
    "schlagw",
    "keyword",
    "etiquet",
    "printfriendly",
    "rating",
    "vote",
    "donat",
    "signup",
    "login",
    "readmore",
    "leermas",
    "lireaussi",
    "alire",
    "weiterlesen",
];

/// Whole tokens (exact) of blocks that are never the article.
const STRONG_NEGATIVE_TOKENS: &[&str] = &[
    "ad",
    "ads",
    "adv",
    "tags",
    "topics",
    "meta",
    "date",
    "datum",
    "fecha",
    "time",
    "published",
    "dates",
    "updated",
    "print",
    "pub",
    "reply",
    "more",
    "also",
    "themen",
    "temas",
    "sticky",
    "banner",
    "bio",
    "follow",
    "contact",
];

/// Token prefixes of page furniture that occasionally wraps the whole page.
const WEAK_NEGATIVE_PREFIXES: &[&str] = &[
    "header",
    "footer",
    "nav",
    "menu",
    "sidebar",
    "aside",
    "widget",
    "masthead",
    "topbar",
    "toolbar",
    "modal",
    "popup",
    "overlay",
    "pagination",
    "pager",
    "skip",
    "jump",
    "rss",
    "sitemap",
    "legal",
    "copyright",
    "disclaimer",
    "tools",
];

const POSITIVE_PREFIXES: &[&str] = &[
    "article",
    "artikel",
    "articulo",
    "articolo",
    "artigo",
    "artykul",
    "content",
    "contenido",
    "conteudo",
    "inhalt",
    "body",
    "entry",
    "post",
    "story",
    "text",
    "texte",
    "blog",
    "prose",
    "richtext",
    "rte",
    "main",
    "hentry",
    "single",
];

const CAPTION_PREFIXES: &[&str] = &[
    "caption",
    "legend",
    "legende",
    "bildunterschrift",
    "bildtext",
    "credit",
    "photocredit",
    "imagecredit",
    "fotocredit",
    "copyright",
    "figcaption",
    "wpcaption",
    "imgsource",
    "pie",
    "epigraf",
];

/// Words that begin like a hint above but mean something else, in class and id names: a
/// "piece" is no Spanish "pie" (de foto) caption and a French "pied" (de page) no caption
/// either, "shared" styles are no share bar, a "commentary" is an opinion article, not reader
/// comments, an "authority" no byline, a "poster" no post, a "textarea" no text. A token that
/// starts with one of these takes no hint at all.
const NOT_HINT_WORDS: &[&str] = &[
    "piece",
    "pied",
    "pier",
    "shared",
    "sharehold",
    "commentar",
    "commentat",
    "authorit",
    "authoriz",
    "autorit",
    "autoriz",
    "autorid",
    "voter",
    "poster",
    "postal",
    "posted",
    "textarea",
    "textwidget",
    "blogroll",
    "mainnav",
    "mainmenu",
];

/// Splits `class` and `id` into lowercase alphanumeric tokens; `article-body__related` gives
/// `article`, `body`, `related`, and the joined form `articlebodyrelated` is not produced.
fn tokens(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(str::to_lowercase)
}

/// Tokens that name live coverage (a ticker, a live blog, minute-by-minute reporting).
const LIVE_COVERAGE_TOKENS: &[&str] = &[
    "live",
    "liveblog",
    "liveticker",
    "ticker",
    "direct",
    "endirecto",
    "envivo",
    "diretta",
    "minuteparminute",
    "minutoaminuto",
];

/// Whether one attribute value names live coverage: "live-match-comment", "liveblog-comment".
/// The "comments" of live coverage are the newsroom's running commentary, the article itself,
/// not reader comments; the same word beside "live" is read as coverage.
fn names_live_coverage(value: &str) -> bool {
    tokens(value).any(|token| LIVE_COVERAGE_TOKENS.contains(&token.as_str()))
}

/// Classifies an element by its `class` and `id` attribute values.
pub fn classify(class: &str, id: &str) -> ClassHints {
    let mut hints = ClassHints::default();
    for (value, token) in tokens(class)
        .map(|token| (class, token))
        .chain(tokens(id).map(|token| (id, token)))
    {
        let has_prefix = |list: &[&str]| list.iter().any(|prefix| token.starts_with(prefix));
        if has_prefix(NOT_HINT_WORDS) {
            continue;
        }
        if has_prefix(COMMENT_PREFIXES) {
            // Read again only here: comment tokens are rare, every element is classified.
            if !names_live_coverage(value) {
                hints.comments = true;
                hints.strong_negative = true;
            }
        } else if has_prefix(CAPTION_PREFIXES) {
            hints.caption = true;
        } else if has_prefix(STRONG_NEGATIVE_PREFIXES)
            || STRONG_NEGATIVE_TOKENS.contains(&token.as_str())
        {
            hints.strong_negative = true;
        } else if has_prefix(WEAK_NEGATIVE_PREFIXES) {
            hints.weak_negative = true;
        } else if has_prefix(POSITIVE_PREFIXES) {
            hints.positive = true;
        }
    }
    let joined: String = format!("{class} {id}").to_lowercase();
    if [
        "sr-only",
        "visually-hidden",
        "visuallyhidden",
        "screen-reader",
        "a-lire",
        "lire-aussi",
    ]
    .iter()
    .any(|needle| joined.contains(needle))
    {
        hints.strong_negative = true;
    }
    hints
}

/// Block openings that announce a link to another article ("read also"), in several languages.
const READ_ALSO_OPENINGS: &[&str] = &[
    "read also",
    "read more",
    "also read",
    "see also",
    "related:",
    "related article",
    "more:",
    "watch:",
    "listen:",
    "lire aussi",
    "à lire aussi",
    "a lire aussi",
    "à lire",
    "lire la suite",
    "voir aussi",
    "sur le même sujet",
    "notre article",
    "lisez aussi",
    "lesen sie auch",
    "lesen sie mehr",
    "auch interessant",
    "mehr zum thema",
    "weiterlesen",
    "siehe auch",
    "das könnte sie auch",
    "lea también",
    "lee también",
    "leer también",
    "lea más",
    "lee más",
    "lea:",
    "lee:",
    "ver también",
    "vea también",
    "mira también",
    "te puede interesar",
    "puedes ver",
    "más información",
    "también te puede",
    "leia também",
    "leia mais",
    "veja também",
    "saiba mais",
    "leggi anche",
    "leggi:",
    "czytaj też",
    "czytaj także",
    "czytaj więcej",
    "czytaj również",
    "zobacz też",
    "zobacz także",
    "zobacz również",
    "przeczytaj",
    "polecamy",
    "lue myös",
    "les også",
    "olvassa el",
    "ez is érdekelhet",
];

/// Short blocks that are labels of page furniture, not text ("Advertisement", "Share").
const FURNITURE_LABELS: &[&str] = &[
    "advertisement",
    "advertisement:",
    "anzeige",
    "werbung",
    "publicidad",
    "publicité",
    "reklama",
    "pubblicità",
    "publicidade",
    "share",
    "share this",
    "share this article",
    "tweet",
    "teilen",
    "partager",
    "compartir",
    "compartilhe",
    "udostępnij",
    "print",
    "drucken",
    "imprimir",
    "imprimer",
    "email",
    "e-mail",
    "comments",
    "kommentare",
    "commentaires",
    "comentarios",
    "komentarze",
    "newsletter",
    "follow us",
    "subscribe",
    "abonnieren",
    "s'abonner",
    "suscríbete",
    "top",
    "back to top",
    "nach oben",
    "menu",
    "menü",
];

/// Stems of calls to action and legal lines that close pages (subscribe, follow us, copyright).
const CALL_TO_ACTION_STEMS: &[&str] = &[
    "subscribe",
    "subscriber",
    "sign up for",
    "newsletter",
    "download the",
    "download our",
    "follow us",
    "follow the",
    "join us on",
    "all rights reserved",
    "suscríbete",
    "suscribite",
    "suscribirte",
    "síguenos",
    "siguenos",
    "únete",
    "hazte miembro",
    "canal de telegram",
    "canal de youtube",
    "canal de whatsapp",
    "todos los derechos reservados",
    "abonnez-vous",
    "inscrivez-vous",
    "suivez-nous",
    "tous droits réservés",
    "abonnieren",
    "abonniere",
    "folgen sie",
    "alle rechte vorbehalten",
    "subskrypc",
    "zapisz się",
    "obserwuj nas",
    "wszelkie prawa zastrzeżone",
    "materiał chroniony",
    "assine",
    "inscreva-se",
    "siga-nos",
    "iscriviti",
    "seguici",
    "riproduzione riservata",
    "copyright",
    // Appeals for support and membership.
    "support us",
    "support our",
    "support independent",
    "donate now",
    "donate today",
    "please donate",
    "become a member",
    "unterstütze uns",
    "unterstützen sie uns",
    "jetzt spenden",
    "spenden sie",
    "werden sie mitglied",
    "soutenez-nous",
    "soutenez notre",
    "faites un don",
    "faire un don",
    "devenez membre",
    "apóyanos",
    "apoya nuestro",
    "haz una donación",
    "wesprzyj nas",
    "sostienici",
    // Pitches for the publisher's app and mailings.
    "our app",
    "our free app",
    "unsere app",
    "notre application",
    "nuestra app",
    "straight to your inbox",
    "delivered to your inbox",
    "straight to your phone",
    // Mailings, hiring, channels.
    "in your inbox",
    "we are hiring",
    "we're hiring",
    "join our team",
    "wir stellen ein",
    "nous recrutons",
    "подписывайтесь",
    "подпишитесь",
    "все права защищены",
    "ακολουθήστε",
    "εγγραφείτε",
    "κάντε εγγραφή",
    // Tip lines.
    "got a tip",
    "have a tip",
    "a story for us",
    "news tip",
    "story tip",
    // Readers' letters and contributors' disclaimers.
    "submit your letter",
    "submit a letter",
    "letters to the editor",
    "not responsible for the opinions",
    "not responsible for the content",
    "not necessarily reflect",
    "not necessarily represent",
    "n'engagent que",
    "ne reflètent pas nécessairement",
    "nicht unbedingt die meinung",
    "no necesariamente reflejan",
    "no se hace responsable",
    "non riflettono necessariamente",
];

/// Imperative calls to action, specific enough to drop a short block anywhere in the body.
const IMPERATIVE_STEMS: &[&str] = &[
    "subscribe now",
    "subscribe to our",
    "subscribe today",
    "please subscribe",
    "sign up for our",
    "download the",
    "download our",
    "follow us",
    "suscríbete",
    "suscribite",
    "síguenos",
    "siguenos en",
    "únete a",
    "hazte miembro",
    "abonnez-vous",
    "inscrivez-vous",
    "suivez-nous",
    "jetzt abonnieren",
    "abonnieren sie",
    "folgen sie uns",
    "zapisz się",
    "obserwuj nas",
    "assine",
    "inscreva-se",
    "siga-nos",
    "iscriviti",
    "seguici",
    "all rights reserved",
    "tous droits réservés",
    "alle rechte vorbehalten",
    "todos los derechos reservados",
    "wszelkie prawa zastrzeżone",
    "donate now",
    "jetzt spenden",
    "faites un don",
    "support our journalism",
    "support independent journalism",
    "unterstützen sie unseren journalismus",
    "soutenez notre journalisme",
    "apoya nuestro periodismo",
    "werden sie mitglied",
    "devenez membre",
    "submit your letter",
    // Affiliate disclosures.
    "affiliate link",
    "affiliate commission",
    "partnerlink",
    "affiliate-link",
    "liens affiliés",
    "liens d'affiliation",
    "enlaces de afiliado",
    "linki afiliacyjne",
];

/// Openings of the blocks where an article ends and the site's furniture begins: "about us"
/// notes under press releases, press contacts, author bios, legal notices, "more from" lists.
/// Matched at the start of a heading or short paragraph, lowercase.
const TAIL_BOUNDARY_OPENINGS: &[&str] = &[
    "about us",
    "about the author",
    "about the company",
    "about the writer",
    "more from",
    "more stories",
    "related stories",
    "related articles",
    "you may also like",
    "press contact",
    "media contact",
    "media contacts",
    "media inquiries",
    "for media inquiries",
    "notes to editors",
    "note to editors",
    "legal notice",
    "further reading",
    "aller plus loin",
    "pour aller plus loin",
    "weiterführende literatur",
    "para saber más",
    "para ir más lejos",
    "per saperne di più",
    "à propos de",
    "a propos de",
    "à propos d'",
    "contact presse",
    "contacts presse",
    "relations presse",
    "mentions légales",
    "notes aux rédactions",
    "note aux rédactions",
    "über uns",
    "über den autor",
    "über die autorin",
    "pressekontakt",
    "medienkontakt",
    "mehr zum thema",
    "acerca de",
    "sobre nosotros",
    "sobre el autor",
    "sobre la autora",
    "contacto de prensa",
    "contacto para medios",
    "aviso legal",
    "sobre a empresa",
    "sobre o autor",
    "contato para imprensa",
    "chi siamo",
    "contatti stampa",
    "o nas",
    "o autorze",
    "kontakt dla mediów",
    "kontakt dla prasy",
];

/// Whether a heading or short block marks the end of the article ("À propos de …",
/// "Press contact", "About the author"): what follows is the publisher's furniture.
pub fn opens_tail_boundary(text: &str) -> bool {
    if text.chars().count() > 300 {
        return false;
    }
    let head: String = text
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .take(30)
        .flat_map(char::to_lowercase)
        .map(|c| if c == '’' { '\'' } else { c })
        .collect();
    TAIL_BOUNDARY_OPENINGS.iter().any(|opening| {
        head.strip_prefix(opening)
            .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
    }) || is_about_a_name(text)
}

/// "About" and a name: the heading of the publisher's boilerplate under a press release
/// ("About WaterBridge Trust", "Über Stadtwerke Hameln", "Acerca de Telefónica", "Sobre a
/// Galp"), the name capitalised. A label, so a short one.
fn is_about_a_name(text: &str) -> bool {
    const MAX_WORDS: usize = 6;
    let text = text.trim();
    if text.split_whitespace().count() > MAX_WORDS {
        return false;
    }
    [
        "About ",
        "Über ",
        "Acerca de ",
        "Sobre ",
        "Informazioni su ",
    ]
    .iter()
    .filter_map(|opening| text.strip_prefix(opening))
    // "Sobre a Galp", "Sobre o Banco": a Portuguese article before the name.
    .map(|rest| {
        rest.strip_prefix("a ")
            .or(rest.strip_prefix("o "))
            .unwrap_or(rest)
    })
    .any(|name| name.starts_with(char::is_uppercase))
}

/// Whether a short block anywhere in the body is a call to action or a legal line.
pub fn is_imperative_call_to_action(text: &str) -> bool {
    if text.chars().count() > 200 {
        return false;
    }
    let lower = text.to_lowercase();
    IMPERATIVE_STEMS.iter().any(|stem| lower.contains(stem))
}

/// Labels that open a photo credit line.
const CREDIT_OPENINGS: &[&str] = &[
    "foto:",
    "fotos:",
    "foto :",
    "photo:",
    "photos:",
    "photo :",
    "photo credit",
    "image credit",
    "credit:",
    "credits:",
    "crédit photo",
    "crédits photo",
    "crédit :",
    "crédits :",
    "crédit:",
    "bild:",
    "bildquelle",
    "fot.",
    "zdjęcie:",
    "imagen:",
    "image:",
    "picture:",
    "©",
    "(c)",
];

/// Photo agencies whose name in a short line marks it as a credit.
const PHOTO_AGENCIES: &[&str] = &[
    "getty images",
    "shutterstock",
    "istock",
    "imago",
    "picture alliance",
];

/// Whether a short block is a photo credit ("Photo: AFP", "Crédits photos : X", "© Getty").
pub fn is_credit_line(text: &str) -> bool {
    let length = text.chars().count();
    if length > 150 {
        return false;
    }
    let lower = text
        .trim()
        .trim_start_matches(['(', '[', ' '])
        .to_lowercase();
    CREDIT_OPENINGS
        .iter()
        .any(|opening| lower.starts_with(opening))
        || (length < 80 && PHOTO_AGENCIES.iter().any(|agency| lower.contains(agency)))
}

/// Whether a short block is a line of the page's metadata: a label and a bare URL
/// ("Permalink https://…", "Short link: …") or a numeric date ("Date 23.05.2011", "Updated:
/// 2021-03-04 10:12"). At the end of the text it is the page's furniture, in any language,
/// since the label's words do not matter.
pub fn is_metadata_line(text: &str) -> bool {
    let text = text.trim();
    if text.chars().count() > 80 {
        return false;
    }
    let is_label = |label: &str| {
        let words = label.split_whitespace().count();
        (1..=3).contains(&words) && label.chars().all(|c| c.is_alphabetic() || c == ' ')
    };
    // "Label https://…", "Short link: https://…": the URL is the last word.
    let labelled_url = text
        .rsplit_once(char::is_whitespace)
        .is_some_and(|(label, url)| {
            is_label(label.trim_end_matches([':', ' '])) && is_bare_url(url)
        });
    // "Updated: 2021-03-04 10:12", "Date 23.05.2011".
    let labelled_date = text
        .split_once(':')
        .is_some_and(|(label, value)| is_label(label.trim()) && is_numeric_date(value.trim()))
        || text
            .split_once(char::is_whitespace)
            .is_some_and(|(label, value)| is_label(label) && is_numeric_date(value.trim()));
    labelled_url || labelled_date
}

fn is_bare_url(value: &str) -> bool {
    ["http://", "https://", "www."]
        .iter()
        .any(|scheme| value.starts_with(scheme))
        && !value.contains(char::is_whitespace)
}

/// Digits and date/time separators only, with a date's separator: "23.05.2011", "2021-03-04".
fn is_numeric_date(value: &str) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    digits >= 6
        && value.contains(['.', '-', '/'])
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '/' | ':' | ' ' | ','))
}

/// Whether a (trailing) block asks the reader to subscribe/follow, or is a legal line.
pub fn is_call_to_action(text: &str) -> bool {
    if text.chars().count() > 400 {
        return false;
    }
    let lower = text.to_lowercase();
    CALL_TO_ACTION_STEMS.iter().any(|stem| lower.contains(stem))
}

/// Whether a block of text opens like a "read also" pointer to another article.
pub fn opens_like_read_also(text: &str) -> bool {
    let head: String = text
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .take(40)
        .flat_map(char::to_lowercase)
        .collect();
    READ_ALSO_OPENINGS
        .iter()
        .any(|opening| head.starts_with(opening))
}

/// Whether a short block is only a furniture label.
pub fn is_furniture_label(text: &str) -> bool {
    if text.chars().count() > 40 {
        return false;
    }
    let normalized: String = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric() && c != ':' && c != '\'')
        .to_lowercase();
    FURNITURE_LABELS.contains(&normalized.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_classify_in_several_languages() {
        assert!(classify("article-comments", "").strong_negative);
        assert!(classify("article-comments", "").comments);
        assert!(classify("", "autres-articles a-lire").strong_negative);
        assert!(classify("bildunterschrift", "").caption);
        assert!(classify("site-header", "").weak_negative);
        assert!(classify("entry-content", "").positive);
        assert!(!classify("header-image shadow", "").strong_negative);
    }

    #[test]
    fn pie_caption_hint_does_not_match_piece() {
        assert!(classify("pie-de-foto", "").caption);
        assert!(!classify("article-piece", "").caption);
        assert!(classify("article-piece", "").positive);
        assert!(!classify("pied-de-page", "").caption);
    }

    #[test]
    fn share_hint_does_not_match_shared() {
        assert!(classify("share-tools", "").strong_negative);
        assert!(!classify("shared-layout", "").strong_negative);
        assert!(classify("post-body shared-styles", "").positive);
    }

    #[test]
    fn appeals_pitches_and_disclaimers_close_pages_in_several_languages() {
        for text in [
            "Unterstützen Sie uns mit einem monatlichen Beitrag.",
            "Soutenez notre journalisme indépendant.",
            "Les opinions publiées n'engagent que leurs auteurs.",
            "Descarga nuestra app para recibir las noticias.",
            "Views expressed do not necessarily reflect those of the editors.",
            "Got a tip? Email the newsroom at desk@news.example.",
        ] {
            assert!(is_call_to_action(text), "{text}");
        }
        // A sentence of the article that mentions giving is no appeal.
        assert!(!is_call_to_action(
            "The builder asked to donate the lease anonymously."
        ));
        assert!(is_imperative_call_to_action("Jetzt spenden!"));
        assert!(!is_imperative_call_to_action(
            "Die Spenden kamen aus der ganzen Stadt."
        ));
    }

    #[test]
    fn metadata_lines_are_a_label_and_a_url_or_a_date() {
        for text in [
            "Permalien https://p.example/p/RPYx",
            "Short link: https://news.example/a/1234",
            "Lien court https://mairie.example/a/8812",
            "Date 23.05.2011",
            "Zuletzt aktualisiert: 2021-03-04 10:12",
        ] {
            assert!(is_metadata_line(text), "{text}");
        }
        for text in [
            "The vote is on 23.05.2011.",
            "See https://news.example/a/1234 for the full report",
            "Paris, le 23 mai 2011",
            "Score 3-1",
        ] {
            assert!(!is_metadata_line(text), "{text}");
        }
    }

    #[test]
    fn about_a_name_is_a_tail_boundary() {
        for text in [
            "About WaterBridge Trust",
            "Acerca de Telefónica",
            "Sobre a Galp",
        ] {
            assert!(opens_tail_boundary(text), "{text}");
        }
        for text in [
            "About three hundred people came to the meeting",
            "About the findings",
            "Sobre o projeto",
        ] {
            assert!(!opens_tail_boundary(text), "{text}");
        }
    }

    #[test]
    fn live_coverage_comments_are_not_reader_comments() {
        for class in ["live-match-comment", "liveblog-comment", "ticker__comment"] {
            let hints = classify(class, "");
            assert!(!hints.comments && !hints.strong_negative, "{class}");
        }
        // Only within the same value: a live page's reader comments stay comments.
        assert!(classify("comments", "live-page").comments);
        assert!(classify("comment-list", "").comments);
        // "delivery", "livestock": not the whole token "live".
        assert!(classify("delivery-comment", "").comments);
    }

    #[test]
    fn comment_hint_does_not_match_commentary() {
        assert!(classify("comments-list", "").comments);
        assert!(classify("commentaires", "").comments);
        let commentary = classify("commentary-body", "");
        assert!(!commentary.comments && !commentary.strong_negative && commentary.positive);
    }

    #[test]
    fn author_hint_does_not_match_authority() {
        assert!(classify("author-box", "").strong_negative);
        assert!(classify("autorin", "").strong_negative);
        assert!(!classify("authority-notice", "").strong_negative);
        assert!(!classify("autoridad", "").strong_negative);
        assert!(!classify("autorita-garante", "").strong_negative);
    }

    #[test]
    fn positive_hints_do_not_match_other_words() {
        for other in [
            "poster",
            "postal-code",
            "posted-on",
            "textarea",
            "textwidget",
            "blogroll",
        ] {
            assert!(!classify(other, "").positive, "{other}");
        }
        assert!(!classify("mainnav", "").positive);
        assert!(!classify("", "mainmenu").positive);
        assert!(classify("main-content", "").positive);
        assert!(!classify("voter-guide", "").strong_negative);
        assert!(classify("vote-widget", "").strong_negative);
    }

    #[test]
    fn read_also_openings_are_recognised() {
        assert!(opens_like_read_also("» Lire aussi : le budget"));
        assert!(opens_like_read_also("LEA TAMBIÉN: Nicaragua"));
        assert!(!opens_like_read_also("Il faut lire aussi ce rapport"));
        assert!(is_furniture_label("Advertisement"));
        assert!(!is_furniture_label(
            "Advertisement revenue fell by a third this year."
        ));
    }

    #[test]
    fn tail_boundaries_are_recognised_at_the_start_only() {
        assert!(opens_tail_boundary("À propos de la Région"));
        assert!(opens_tail_boundary("About the author"));
        assert!(opens_tail_boundary("Pressekontakt: Max Muster, 0123"));
        assert!(opens_tail_boundary("— Contact presse —"));
        assert!(!opens_tail_boundary(
            "About usability, the report says little."
        ));
        assert!(!opens_tail_boundary("The report says little about us"));
        assert!(!opens_tail_boundary(&"À propos de ".repeat(40)));
    }
}
