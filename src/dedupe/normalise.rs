//! Turns article text into comparable word tokens: case, accents, punctuation and spacing folded.
//!
//! Two sites carrying the same wire copy differ in typography (straight or curly quotes,
//! non-breaking spaces, `œ` or `oe`, composed or decomposed accents) but not in words, so the
//! tokens keep only letters and digits, lower-cased and stripped of Latin diacritics.

/// Splits `text` into normalised tokens.
///
/// Letters and digits form words; everything else separates them. Characters of scripts written
/// without spaces (Han, kana, Thai...) are one token each, so such texts still give enough tokens
/// to shingle.
pub fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for character in text.chars() {
        if is_combining_mark(character) {
            // A decomposed accent: dropped, like the precomposed ones are folded.
            continue;
        }
        if is_unspaced_script(character) {
            flush(&mut current, &mut tokens);
            tokens.push(character.to_string());
        } else if character.is_alphanumeric() {
            for lower in character.to_lowercase() {
                push_folded(lower, &mut current);
            }
        } else {
            flush(&mut current, &mut tokens);
        }
    }
    flush(&mut current, &mut tokens);
    tokens
}

fn flush(current: &mut String, tokens: &mut Vec<String>) {
    if !current.is_empty() {
        tokens.push(std::mem::take(current));
    }
}

/// Appends `character` (already lower-case) with its Latin diacritics removed.
fn push_folded(character: char, output: &mut String) {
    match fold_latin(character) {
        Some(folded) => output.push_str(folded),
        None => output.push(character),
    }
}

/// The unaccented spelling of a lower-case Latin letter, when it has one.
fn fold_latin(character: char) -> Option<&'static str> {
    let folded = match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        _ => return None,
    };
    Some(folded)
}

/// Combining diacritical marks, as left by decomposed (NFD) text.
fn is_combining_mark(character: char) -> bool {
    matches!(character, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}')
}

/// Scripts written without spaces between words, where each character stands as a token.
fn is_unspaced_script(character: char) -> bool {
    matches!(character,
        '\u{0E00}'..='\u{0E7F}'   // Thai
        | '\u{0E80}'..='\u{0EFF}' // Lao
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}' // Khmer
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}' // CJK Extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK Unified Ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK Compatibility Ideographs
        | '\u{20000}'..='\u{2FFFF}' // CJK Extensions B and later
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_ligatures_and_punctuation() {
        assert_eq!(
            tokens("L’Œuvre « très » ÉLÉGANTE—naïve, 3,5 %"),
            ["l", "oeuvre", "tres", "elegante", "naive", "3", "5"]
        );
    }

    #[test]
    fn decomposed_and_composed_accents_give_the_same_tokens() {
        let composed = "Le député a été élu à Besançon";
        let decomposed =
            "Le de\u{301}pute\u{301} a e\u{301}te\u{301} e\u{301}lu a\u{300} Besanc\u{327}on";
        assert_eq!(tokens(composed), tokens(decomposed));
    }

    #[test]
    fn straight_and_curly_apostrophes_and_nbsp_agree() {
        assert_eq!(
            tokens("l'Assemblée nationale\u{a0}: « C'est fini »"),
            tokens("l’Assemblée nationale : \"C’est fini\"")
        );
    }

    #[test]
    fn unspaced_scripts_give_one_token_per_character() {
        assert_eq!(tokens("東京都 ok"), ["東", "京", "都", "ok"]);
    }
}
