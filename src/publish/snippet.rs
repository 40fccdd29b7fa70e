//! Search snippets: the part of a story's text around the first term found, with the terms
//! marked. Pure; matching ignores case and diacritics, as the search index does.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// One piece of a snippet: plain text, or a term found (to be highlighted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub matched: bool,
}

/// One character of the folded text and where its source character lies in the original.
struct Folded {
    character: char,
    start: usize,
    end: usize,
}

/// `text` lower-cased and without combining marks, each folded character remembering the
/// byte range of the original character it came from.
fn fold(text: &str) -> Vec<Folded> {
    let mut folded = Vec::with_capacity(text.len());
    for (start, original) in text.char_indices() {
        let end = start + original.len_utf8();
        for decomposed in std::iter::once(original).nfd() {
            if is_combining_mark(decomposed) {
                continue;
            }
            for character in decomposed.to_lowercase() {
                folded.push(Folded {
                    character,
                    start,
                    end,
                });
            }
        }
    }
    folded
}

fn fold_term(term: &str) -> Vec<char> {
    fold(term).into_iter().map(|f| f.character).collect()
}

/// Byte ranges of `text` where a term starts a word (or, for a term in a script without
/// spaces, anywhere), merged and in order.
fn matches(text: &str, terms: &[&str]) -> Vec<(usize, usize)> {
    let folded = fold(text);
    let terms: Vec<(Vec<char>, bool)> = terms
        .iter()
        .map(|term| {
            let anywhere = term.chars().any(crate::store::is_spaceless_script);
            (fold_term(term), anywhere)
        })
        .filter(|(term, _)| !term.is_empty())
        .collect();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for index in 0..folded.len() {
        let word_start = index == 0 || !folded[index - 1].character.is_alphanumeric();
        for (term, anywhere) in &terms {
            let Some(window) = folded.get(index..index + term.len()) else {
                continue;
            };
            if (word_start || *anywhere) && window.iter().zip(term).all(|(f, t)| f.character == *t)
            {
                let range = (folded[index].start, window[window.len() - 1].end);
                match ranges.last_mut() {
                    Some(last) if range.0 <= last.1 => last.1 = last.1.max(range.1),
                    _ => ranges.push(range),
                }
            }
        }
    }
    ranges
}

/// At most `width` characters of `text` around the first term found (the start of the text
/// when none is, e.g. a story found by its source's name), cut at spaces where possible, with
/// `…` where text was left out and every term found marked.
pub fn snippet(text: &str, terms: &[&str], width: usize) -> Vec<Piece> {
    let text = text.trim();
    let found = matches(text, terms);
    let first = found.first().map_or(0, |range| range.0);
    let (start, end) = window(text, first, width);
    let mut pieces = Vec::new();
    let mut push = |text: &str, matched: bool| {
        if !text.is_empty() {
            pieces.push(Piece {
                text: text.to_string(),
                matched,
            });
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut cursor = start;
    for (from, to) in found {
        if to <= start || from >= end {
            continue;
        }
        let (from, to) = (from.max(start), to.min(end));
        push(&text[cursor..from], false);
        push(&text[from..to], true);
        cursor = to;
    }
    push(&text[cursor..end], false);
    if end < text.len() {
        push("…", false);
    }
    pieces
}

/// The byte range of at most `width` characters showing `focus`: about a fifth of the width
/// before it, both ends moved back to a space when one is near.
fn window(text: &str, focus: usize, width: usize) -> (usize, usize) {
    let before = text[..focus]
        .chars()
        .rev()
        .take(width / 5)
        .map(char::len_utf8);
    let mut start = focus - before.sum::<usize>();
    if start > 0
        && let Some(space) = text[start..focus].find(char::is_whitespace)
    {
        start += space + 1;
    }
    let mut end = start
        + text[start..]
            .chars()
            .take(width)
            .map(char::len_utf8)
            .sum::<usize>();
    if end < text.len()
        && let Some(space) = text[start..end].rfind(char::is_whitespace)
        && start + space > focus
    {
        end = start + space;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|piece| match piece.matched {
                true => format!("[{}]", piece.text),
                false => piece.text.clone(),
            })
            .collect()
    }

    #[test]
    fn terms_are_marked_without_case_or_accents() {
        let text = "Les élèves de l'École rentrent à Montréal.";
        assert_eq!(
            render(&snippet(text, &["eleves", "ecole", "MONT"], 100)),
            "Les [élèves] de l'[École] rentrent à [Mont]réal."
        );
        let greek = "Η Αθήνα γιορτάζει στην Ακρόπολη.";
        assert_eq!(
            render(&snippet(greek, &["αθηνα"], 100)),
            "Η [Αθήνα] γιορτάζει στην Ακρόπολη."
        );
    }

    #[test]
    fn a_word_term_matches_at_word_starts_and_a_spaceless_one_anywhere() {
        assert_eq!(
            render(&snippet("amont du mont", &["mont"], 50)),
            "amont du [mont]"
        );
        assert_eq!(
            render(&snippet("東京で新しい橋が開通", &["新しい橋"], 50)),
            "東京で[新しい橋]が開通"
        );
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match_at_spaces() {
        let text = format!(
            "{} la crue de la Loire {}",
            "avant ".repeat(50),
            "après ".repeat(50)
        );
        let pieces = snippet(&text, &["loire"], 60);
        let shown = render(&pieces);
        assert!(shown.starts_with("…crue de la [Loire]"), "{shown}");
        assert!(shown.ends_with("…"), "{shown}");
        assert!(shown.contains("la [Loire] après"), "{shown}");
        let visible: usize = pieces.iter().map(|p| p.text.chars().count()).sum();
        assert!(visible <= 62, "{visible}: {shown}");
    }

    #[test]
    fn no_match_shows_the_start_and_nothing_is_marked() {
        let pieces = snippet("Une histoire de fleuve.", &["zeitung"], 10);
        assert!(pieces.iter().all(|piece| !piece.matched));
        assert_eq!(render(&pieces), "Une…");
        assert!(snippet("", &["x"], 10).is_empty());
    }
}
