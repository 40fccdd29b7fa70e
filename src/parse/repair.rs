//! The heavier text repairs, tried only after feed-rs has refused a document: bare ampersands,
//! HTML named entities, and unbalanced or truncated markup.

use super::entities::html_entity_code_point;

/// Renames element `old` to `new` in start and end tags (unprefixed names only).
pub fn rename_element(text: &str, old: &str, new: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('<') {
        result.push_str(&rest[..index]);
        let tag = &rest[index..];
        let (slash, name_part) = match tag.strip_prefix("</") {
            Some(after) => ("</", after),
            None => ("<", &tag[1..]),
        };
        let matches_name = name_part.starts_with(old)
            && name_part[old.len()..]
                .starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace());
        if matches_name {
            result.push_str(slash);
            result.push_str(new);
            rest = &name_part[old.len()..];
        } else {
            result.push('<');
            rest = &tag[1..];
        }
    }
    result.push_str(rest);
    result
}

/// Escapes every `&` that does not start a valid reference, and turns HTML named entities
/// (`&eacute;`, `&nbsp;`) into numeric references XML understands. CDATA sections and
/// comments are copied verbatim: `&` is literal there.
pub fn repair_escapes(text: &str) -> String {
    let mut result = String::with_capacity(text.len() + text.len() / 64);
    let mut rest = text;
    while let Some(index) = rest.find(['&', '<']) {
        result.push_str(&rest[..index]);
        rest = &rest[index..];
        if rest.starts_with('<') {
            let verbatim = verbatim_section_length(rest).unwrap_or(1);
            result.push_str(&rest[..verbatim]);
            rest = &rest[verbatim..];
            continue;
        }
        let (replacement, consumed) = repair_reference(rest);
        result.push_str(&replacement);
        rest = &rest[consumed..];
    }
    result.push_str(rest);
    result
}

/// Length of a CDATA section or comment starting here (to its end, or the text's end).
fn verbatim_section_length(text: &str) -> Option<usize> {
    let terminator = if text.starts_with("<![CDATA[") {
        "]]>"
    } else if text.starts_with("<!--") {
        "-->"
    } else {
        return None;
    };
    Some(
        text.find(terminator)
            .map_or(text.len(), |end| end + terminator.len()),
    )
}

/// `text` starts with `&`: returns what to write and how many bytes were read.
fn repair_reference(text: &str) -> (String, usize) {
    let body = &text[1..];
    let name_length = body
        .bytes()
        .take(32)
        .take_while(|byte| byte.is_ascii_alphanumeric() || *byte == b'#')
        .count();
    if !body[name_length..].starts_with(';') || name_length == 0 {
        return ("&amp;".to_string(), 1);
    }
    let name = &body[..name_length];
    let consumed = name_length + 2;
    if is_valid_character_reference(name) || is_xml_predefined(name) {
        return (text[..consumed].to_string(), consumed);
    }
    match html_entity_code_point(name) {
        Some(code_point) => (format!("&#{code_point};"), consumed),
        None => ("&amp;".to_string(), 1),
    }
}

fn is_valid_character_reference(name: &str) -> bool {
    let Some(number) = name.strip_prefix('#') else {
        return false;
    };
    let code_point = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => number.parse::<u32>().ok(),
    };
    code_point.and_then(char::from_u32).is_some()
}

fn is_xml_predefined(name: &str) -> bool {
    matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
}

/// Drops XML declarations that are not at the very start: feed-rs switches decoders on each
/// one it meets (pasted or concatenated documents carry them mid-stream).
pub fn remove_misplaced_declarations(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    let mut offset = 0;
    while let Some(found) = rest.find("<?xml") {
        let is_declaration = rest[found + 5..].starts_with(|c: char| c.is_whitespace());
        let at_start = offset + found == 0;
        let end = rest[found..].find("?>").map(|end| found + end + 2);
        match end {
            Some(end) if is_declaration && !at_start => {
                result.push_str(&rest[..found]);
                rest = &rest[end..];
                offset += end;
            }
            _ => {
                result.push_str(&rest[..found + 5]);
                rest = &rest[found + 5..];
                offset += found + 5;
            }
        }
    }
    result.push_str(rest);
    result
}

/// RSS elements whose text is HTML: when a feed puts raw markup in them instead of escaping
/// it, feed-rs keeps only the text between the tags, silently losing the rest.
const HTML_TEXT_ELEMENTS: [&str; 2] = ["description", "content:encoded"];

/// Wraps raw (unescaped, not CDATA) markup inside `<description>` and `<content:encoded>` in
/// a CDATA section. `None` when no element needs it, so clean feeds cost one search each.
pub fn wrap_raw_markup(text: &str) -> Option<String> {
    let mut spans = Vec::new();
    for name in HTML_TEXT_ELEMENTS {
        collect_raw_markup_spans(text, name, &mut spans);
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut result = String::with_capacity(text.len() + spans.len() * 12);
    let mut copied_to = 0;
    for (start, end) in spans {
        // Overlapping elements (one opened inside another and closed after it) give
        // overlapping spans: the first one wins, the other is left as it is.
        if start < copied_to {
            continue;
        }
        result.push_str(&text[copied_to..start]);
        result.push_str("<![CDATA[");
        result.push_str(&text[start..end].replace("]]>", "]]]]><![CDATA[>"));
        result.push_str("]]>");
        copied_to = end;
    }
    result.push_str(&text[copied_to..]);
    Some(result)
}

/// Byte ranges of the contents of `<name>` elements that hold raw markup.
fn collect_raw_markup_spans(text: &str, name: &str, spans: &mut Vec<(usize, usize)>) {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut position = 0;
    while let Some(found) = text[position..].find(&open) {
        let tag_start = position + found;
        position = tag_start + open.len();
        let after_name = &text[position..];
        if !after_name.starts_with(|c: char| c == '>' || c.is_whitespace()) {
            continue;
        }
        let Some(tag_end) = after_name.find('>').map(|end| position + end + 1) else {
            return;
        };
        if text[..tag_end].ends_with("/>") {
            continue;
        }
        let Some(inner_end) = text[tag_end..].find(&close).map(|end| tag_end + end) else {
            return;
        };
        let inner = &text[tag_end..inner_end];
        // Checked in order of cost: most feeds wrap their HTML in CDATA or escape it.
        if !inner.trim_start().starts_with("<![CDATA[")
            && inner.contains('<')
            && !inner.contains("<![CDATA[")
        {
            spans.push((tag_end, inner_end));
        }
        position = inner_end + close.len();
    }
}

/// Atom text constructs (`title`, `summary`, `content`...) whose `type` feed-rs refuses:
/// `TEXT`, `text/plain`, `application/xhtml+xml` or a made-up value. Known spellings are
/// mapped to `text`/`html`/`xhtml`; anything else is read as `html`, which shows text too.
pub fn repair_text_construct_types(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('<') {
        result.push_str(&rest[..index]);
        rest = &rest[index..];
        let length = markup_length(rest).unwrap_or(rest.len());
        let tag = &rest[..length];
        rest = &rest[length..];
        let typed = repaired_type_attribute(tag);
        let tag = typed.as_deref().unwrap_or(tag);
        match without_src_on_inline_content(tag, rest) {
            Some(repaired) => result.push_str(&repaired),
            None => result.push_str(tag),
        }
    }
    result.push_str(rest);
    result
}

/// Atom forbids `src` on a `<content>` that also has inline text, and feed-rs then refuses
/// the whole feed: the inline text is kept and `src` dropped.
fn without_src_on_inline_content(tag: &str, following: &str) -> Option<String> {
    let is_content = tag.starts_with("<content") || tag.contains(":content");
    if !is_content || tag.ends_with("/>") || !tag.contains("src") {
        return None;
    }
    let is_empty = following.trim_start().starts_with("</");
    if is_empty {
        return None;
    }
    super::prepass::attribute_value(tag, "src")?;
    Some(super::prepass::without_attribute(tag, "src"))
}

fn repaired_type_attribute(tag: &str) -> Option<String> {
    let name = tag
        .get(1..)?
        .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .next()?;
    let local_name = name.rsplit(':').next()?;
    let is_text_construct = matches!(
        local_name,
        "title" | "subtitle" | "summary" | "content" | "rights" | "tagline" | "info"
    );
    if !is_text_construct {
        return None;
    }
    let value = super::prepass::attribute_value(tag, "type")?;
    let is_content = local_name == "content";
    let replacement = text_construct_type(value, is_content)?;
    Some(
        tag.replacen(&format!("\"{value}\""), &format!("\"{replacement}\""), 1)
            .replacen(&format!("'{value}'"), &format!("'{replacement}'"), 1),
    )
}

/// The accepted spelling of a text construct type, or `None` when it is already accepted.
fn text_construct_type(value: &str, is_content: bool) -> Option<&'static str> {
    let lowered = value.trim().to_ascii_lowercase();
    let accepted = matches!(value, "text" | "html" | "xhtml" | "text/html");
    if accepted || (is_content && looks_like_media_type(value)) {
        return None;
    }
    Some(match lowered.as_str() {
        "text" | "text/plain" | "plain" => "text",
        "xhtml" | "application/xhtml+xml" => "xhtml",
        _ => "html",
    })
}

fn looks_like_media_type(value: &str) -> bool {
    let mut parts = value.split('/');
    let is_token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&byte))
    };
    matches!((parts.next(), parts.next(), parts.next()), (Some(kind), Some(sub), None) if is_token(kind) && is_token(sub.split(';').next().unwrap_or("")))
}

/// Decodes HTML named and numeric references left in plain text (feed-rs keeps unknown
/// entities such as `&eacute;` verbatim in titles).
pub fn decode_html_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('&') {
        result.push_str(&rest[..index]);
        rest = &rest[index..];
        match decode_one_reference(rest) {
            Some((character, consumed)) => {
                result.push(character);
                rest = &rest[consumed..];
            }
            None => {
                result.push('&');
                rest = &rest[1..];
            }
        }
    }
    result.push_str(rest);
    result
}

fn decode_one_reference(text: &str) -> Option<(char, usize)> {
    let end = text
        .get(1..)?
        .bytes()
        .take(33)
        .position(|byte| byte == b';')?
        + 1;
    let name = &text[1..end];
    let code_point = match name.strip_prefix('#') {
        Some(number) => match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        },
        None => match name {
            "apos" => 0x27,
            _ => html_entity_code_point(name)?,
        },
    };
    char::from_u32(code_point).map(|character| (character, end + 1))
}

/// Closes what is left open and drops end tags that close nothing, so a truncated or
/// badly nested document becomes well-formed. A tag cut off at the end is dropped.
pub fn balance_tags(text: &str) -> String {
    let mut result = String::with_capacity(text.len() + 64);
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(index) = rest.find('<') {
        result.push_str(&rest[..index]);
        rest = &rest[index..];
        let Some(length) = markup_length(rest) else {
            rest = "";
            break;
        };
        let markup = &rest[..length];
        rest = &rest[length..];
        balance_one(markup, &mut open, &mut result);
    }
    result.push_str(rest);
    for name in open.iter().rev() {
        result.push_str("</");
        result.push_str(name);
        result.push('>');
    }
    result
}

fn balance_one<'t>(markup: &'t str, open: &mut Vec<&'t str>, result: &mut String) {
    if markup.starts_with("<!") || markup.starts_with("<?") {
        result.push_str(markup);
    } else if let Some(closing) = markup.strip_prefix("</") {
        let name = closing.trim_end_matches('>').trim();
        if let Some(position) = open.iter().rposition(|open_name| *open_name == name) {
            for inner in open.drain(position..).rev() {
                result.push_str("</");
                result.push_str(inner);
                result.push('>');
            }
        }
    } else {
        let name = markup[1..]
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or("");
        if !name.is_empty() && !markup.ends_with("/>") {
            open.push(name);
        }
        if !name.is_empty() {
            result.push_str(markup);
        } else {
            result.push_str("&lt;");
            result.push_str(&markup[1..]);
        }
    }
}

/// Length of the markup construct starting at `<`, or `None` when the text ends inside it.
fn markup_length(text: &str) -> Option<usize> {
    for (opening, closing) in [("<![CDATA[", "]]>"), ("<!--", "-->"), ("<?", "?>")] {
        if text.starts_with(opening) {
            return text.find(closing).map(|end| end + closing.len());
        }
    }
    let mut quote: Option<u8> = None;
    for (index, byte) in text.bytes().enumerate().skip(1) {
        match (quote, byte) {
            (Some(open), _) if byte == open => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'>') => return Some(index + 1),
            (None, b'<') => return Some(index),
            _ => {}
        }
    }
    None
}

/// Where the text of a linkless RSS 1.0 item's placeholder link points: not a web URL, so
/// normalisation drops it and the entry keeps no link, but feed-rs keeps the item.
pub const NO_LINK_PLACEHOLDER: &str = "tributary:no-link";

/// feed-rs drops RSS 1.0 / 0.90 items without a `<link>`: each gets a placeholder link (see
/// `NO_LINK_PLACEHOLDER`). `None` when every item has a link.
pub fn add_links_to_linkless_items(text: &str) -> Option<String> {
    let mut result = String::with_capacity(text.len() + 256);
    let mut rest = text;
    let mut changed = false;
    while let Some(found) = find_start_tag(rest, "item") {
        let Some(tag_end) = rest[found..].find('>').map(|end| found + end + 1) else {
            break;
        };
        let self_closing = rest[..tag_end].ends_with("/>");
        let item_end = rest[tag_end..]
            .find("</item>")
            .map_or(rest.len(), |end| tag_end + end);
        let body = &rest[tag_end..item_end];
        result.push_str(&rest[..tag_end]);
        if !self_closing && find_start_tag(body, "link").is_none() {
            result.push_str("<link>");
            result.push_str(NO_LINK_PLACEHOLDER);
            result.push_str("</link>");
            changed = true;
        }
        rest = &rest[tag_end..];
    }
    result.push_str(rest);
    changed.then_some(result)
}

/// Offset of the first unprefixed start tag `<name>` or `<name ...>`.
fn find_start_tag(text: &str, name: &str) -> Option<usize> {
    let open = format!("<{name}");
    let mut position = 0;
    while let Some(found) = text[position..].find(&open) {
        let start = position + found;
        let after = &text[start + open.len()..];
        if after.starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace()) {
            return Some(start);
        }
        position = start + open.len();
    }
    None
}

/// Atom 0.3 feeds sometimes write a link as text, `<link>http://…</link>`, instead of in
/// `href`: the text becomes the `href`.
pub fn links_from_text(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = find_start_tag(rest, "link") {
        let Some(tag_end) = rest[found..].find('>').map(|end| found + end + 1) else {
            break;
        };
        let tag = &rest[found..tag_end];
        let closing = rest[tag_end..].find("</link>").map(|end| tag_end + end);
        // Only a link holding nothing but text (no markup, so not one quoted in a comment).
        let holds_text = |close: usize| !rest[tag_end..close].contains('<');
        match closing {
            Some(close) if !tag.ends_with("/>") && !tag.contains("href") && holds_text(close) => {
                let url = rest[tag_end..close].trim();
                let open = tag.trim_end_matches('>');
                result.push_str(&rest[..found]);
                result.push_str(&format!("{open} href=\"{}\"/>", url.replace('"', "&quot;")));
                rest = &rest[close + "</link>".len()..];
            }
            _ => {
                result.push_str(&rest[..tag_end]);
                rest = &rest[tag_end..];
            }
        }
    }
    result.push_str(rest);
    result
}

/// Atom 0.3 text constructs written `mode="base64"`: their text decoded and escaped in place,
/// the mode dropped. `None` when there is none (or none decodes).
pub fn decode_base64_constructs(text: &str) -> Option<String> {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(found) = rest
        .find("mode=\"base64\"")
        .or_else(|| rest.find("mode='base64'"))
    {
        match decode_base64_element(rest, found) {
            Some((tag_start, replacement, inner_end)) => {
                result.push_str(&rest[..tag_start]);
                result.push_str(&replacement);
                rest = &rest[inner_end..];
                changed = true;
            }
            None => {
                // Not an element's attribute (a comment quoting it, say), or not base64.
                let skip = found + "mode=".len();
                result.push_str(&rest[..skip]);
                rest = &rest[skip..];
            }
        }
    }
    result.push_str(rest);
    changed.then_some(result)
}

/// The element whose start tag holds `mode="base64"` at `found`: where its start tag begins,
/// the start tag without the mode followed by the decoded, escaped text, and where its text ends.
fn decode_base64_element(rest: &str, found: usize) -> Option<(usize, String, usize)> {
    use base64::Engine;
    let tag_start = rest[..found].rfind('<')?;
    let tag_end = found + rest[found..].find('>')? + 1;
    let name: String = rest[tag_start + 1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if name.is_empty() || name.starts_with('!') || rest[..tag_end].ends_with("/>") {
        return None;
    }
    let inner_end = tag_end + rest[tag_end..].find(&format!("</{name}>"))?;
    let encoded: String = rest[tag_end..inner_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_bytes())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let tag = rest[tag_start..tag_end]
        .replace(" mode=\"base64\"", "")
        .replace(" mode='base64'", "");
    Some((
        tag_start,
        format!("{tag}{}", escape_xml_text(&decoded)),
        inner_end,
    ))
}

fn escape_xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Largest document the entity expansion may produce: a "billion laughs" declaration must
/// not turn a small feed into gigabytes.
const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;

/// Expands entities declared in the internal DTD subset (`<!ENTITY name "value">`, used as
/// `&name;`), which the XML reader does not, and drops the subset. `None` when there is no
/// subset, no general entity in it, or the expansion would grow past the size limit.
pub fn expand_internal_entities(text: &str) -> Option<String> {
    let doctype_start = text.find("<!DOCTYPE")?;
    let subset_start = doctype_start + text[doctype_start..].find('[')?;
    let subset_end = subset_start + text[subset_start..].find("]>")?;
    let subset = &text[subset_start + 1..subset_end];
    let mut entities: Vec<(String, String)> = Vec::new();
    for declaration in subset.split("<!ENTITY").skip(1) {
        if let Some((name, value)) = entity_declaration(declaration) {
            let value = substitute_entities(&value, &entities, MAX_EXPANDED_BYTES)?;
            entities.push((name, value));
        }
    }
    if entities.is_empty() {
        return None;
    }
    let document = format!("{}{}", &text[..doctype_start], &text[subset_end + 2..]);
    substitute_entities(&document, &entities, MAX_EXPANDED_BYTES)
}

/// `name "value">` (or single quotes) of a general internal entity; parameter (`%`) and
/// external (`SYSTEM`, `PUBLIC`) entities are not expanded.
fn entity_declaration(declaration: &str) -> Option<(String, String)> {
    let declaration = declaration.trim_start();
    if declaration.starts_with('%') {
        return None;
    }
    let name_end = declaration.find(char::is_whitespace)?;
    let name = &declaration[..name_end];
    let rest = declaration[name_end..].trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value_end = rest[1..].find(quote)?;
    Some((name.to_string(), rest[1..1 + value_end].to_string()))
}

/// Replaces `&name;` for the declared entities outside CDATA sections and comments.
fn substitute_entities(text: &str, entities: &[(String, String)], limit: usize) -> Option<String> {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find(['&', '<']) {
        result.push_str(&rest[..index]);
        rest = &rest[index..];
        if rest.starts_with('<') {
            let verbatim = verbatim_section_length(rest).unwrap_or(1);
            result.push_str(&rest[..verbatim]);
            rest = &rest[verbatim..];
            continue;
        }
        let known = entities.iter().find(|(name, _)| {
            rest[1..].starts_with(name.as_str()) && rest[1 + name.len()..].starts_with(';')
        });
        match known {
            Some((name, value)) => {
                result.push_str(value);
                rest = &rest[name.len() + 2..];
            }
            None => {
                result.push('&');
                rest = &rest[1..];
            }
        }
        if result.len() > limit {
            return None;
        }
    }
    result.push_str(rest);
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ampersands_are_escaped() {
        assert_eq!(
            repair_escapes("<link>http://x/?a=1&b=2</link><t>A & B</t>"),
            "<link>http://x/?a=1&amp;b=2</link><t>A &amp; B</t>"
        );
    }

    #[test]
    fn valid_references_are_kept() {
        let text = "<t>&amp; &lt; &#233; &#xE9; &apos;</t>";
        assert_eq!(repair_escapes(text), text);
    }

    #[test]
    fn html_entities_become_numeric() {
        assert_eq!(
            repair_escapes("<t>caf&eacute;&nbsp;!</t>"),
            "<t>caf&#233;&#160;!</t>"
        );
        assert_eq!(repair_escapes("<t>&bogus;</t>"), "<t>&amp;bogus;</t>");
    }

    #[test]
    fn cdata_and_comments_are_left_alone() {
        let text = "<d><![CDATA[a & b &eacute;]]></d><!-- x & y -->";
        assert_eq!(repair_escapes(text), text);
    }

    #[test]
    fn invalid_character_references_are_escaped() {
        assert_eq!(repair_escapes("&#xD800;"), "&amp;#xD800;");
    }

    #[test]
    fn odd_text_construct_types_are_mapped() {
        assert_eq!(
            repair_text_construct_types(
                "<title type=\"TEXT\">a</title><summary type='text/plain'>b</summary>\
                 <content type=\"atom.content^type\">c</content><link type=\"bogus\"/>"
            ),
            "<title type=\"text\">a</title><summary type='text'>b</summary>\
             <content type=\"html\">c</content><link type=\"bogus\"/>"
        );
        assert_eq!(
            repair_text_construct_types("<content src=\"a\" type=\"html\">inline</content>"),
            "<content type=\"html\">inline</content>"
        );
        let fine = "<content type=\"image/png\" src=\"a.png\"/><title type=\"html\">x</title>\
                    <content src=\"b\"></content>";
        assert_eq!(repair_text_construct_types(fine), fine);
    }

    #[test]
    fn raw_markup_in_descriptions_is_wrapped() {
        let text = "<item><description><p>raw <b>x</b></p></description>\
                    <description><![CDATA[<p>ok</p>]]></description><description/>\
                    <content:encoded>a <br> b</content:encoded><descriptionX>y</descriptionX></item>";
        assert_eq!(
            wrap_raw_markup(text).unwrap(),
            "<item><description><![CDATA[<p>raw <b>x</b></p>]]></description>\
             <description><![CDATA[<p>ok</p>]]></description><description/>\
             <content:encoded><![CDATA[a <br> b]]></content:encoded><descriptionX>y</descriptionX></item>"
        );
        assert!(wrap_raw_markup("<description>&lt;p&gt;escaped</description>").is_none());
    }

    #[test]
    fn misplaced_declarations_are_removed() {
        assert_eq!(
            remove_misplaced_declarations(
                "<?xml version=\"1.0\"?><rss><?xml version=\"1.0\" encoding=\"utf-16\"?><?xml-stylesheet x?></rss>"
            ),
            "<?xml version=\"1.0\"?><rss><?xml-stylesheet x?></rss>"
        );
    }

    #[test]
    fn elements_are_renamed_exactly() {
        assert_eq!(
            rename_element(
                "<issued>x</issued><issuedBy/><dc:issued/><issued a='1'/>",
                "issued",
                "published"
            ),
            "<published>x</published><issuedBy/><dc:issued/><published a='1'/>"
        );
    }

    #[test]
    fn html_entities_in_plain_text_are_decoded() {
        assert_eq!(
            decode_html_entities("Caf&eacute; &amp; &#8217;s &x"),
            "Café & ’s &x"
        );
        assert_eq!(decode_html_entities("no entities"), "no entities");
    }

    #[test]
    fn internal_entities_are_expanded_outside_cdata() {
        let text = "<!DOCTYPE rss [<!ENTITY who \"Ann\"><!ENTITY % p \"x\"><!ENTITY by 'by &who;'>]>\
                    <rss><t>&by; &who; &amp;</t><d><![CDATA[&who;]]></d></rss>";
        assert_eq!(
            expand_internal_entities(text).as_deref(),
            Some("<rss><t>by Ann Ann &amp;</t><d><![CDATA[&who;]]></d></rss>")
        );
        assert_eq!(expand_internal_entities("<rss>&who;</rss>"), None);
    }

    #[test]
    fn entity_bombs_are_not_expanded() {
        let mut subset = String::from("<!ENTITY a0 \"xxxxxxxxxxxxxxxx\">");
        for level in 1..12 {
            let previous = format!("&a{};", level - 1);
            subset.push_str(&format!("<!ENTITY a{level} \"{}\">", previous.repeat(10)));
        }
        let text = format!("<!DOCTYPE rss [{subset}]><rss>&a11;</rss>");
        assert_eq!(expand_internal_entities(&text), None);
    }

    #[test]
    fn linkless_rdf_items_get_a_placeholder() {
        assert_eq!(
            add_links_to_linkless_items(
                "<item rdf:about=\"a\"><title>t</title></item><item><link>l</link></item><items/>"
            )
            .as_deref(),
            Some(
                "<item rdf:about=\"a\"><link>tributary:no-link</link><title>t</title></item>\
                 <item><link>l</link></item><items/>"
            )
        );
        assert_eq!(
            add_links_to_linkless_items("<item><link>l</link></item>"),
            None
        );
    }

    #[test]
    fn atom_03_text_links_and_base64_are_rewritten() {
        assert_eq!(
            links_from_text("<link rel=\"alternate\">http://a/1</link><link href=\"x\"/>"),
            "<link rel=\"alternate\" href=\"http://a/1\"/><link href=\"x\"/>"
        );
        assert_eq!(
            decode_base64_constructs("<!-- mode=\"base64\" --><title mode=\"base64\">PGI+</title>")
                .as_deref(),
            Some("<!-- mode=\"base64\" --><title>&lt;b&gt;</title>")
        );
        assert_eq!(
            decode_base64_constructs("<title mode=\"base64\">!!</title>"),
            None
        );
    }

    #[test]
    fn truncated_documents_are_closed() {
        assert_eq!(
            balance_tags("<rss><channel><item><title>a</title><desc"),
            "<rss><channel><item><title>a</title></item></channel></rss>"
        );
    }

    #[test]
    fn stray_and_crossed_end_tags_are_fixed() {
        assert_eq!(balance_tags("<a><b>x</a></c>"), "<a><b>x</b></a>");
        assert_eq!(
            balance_tags("<?xml version=\"1.0\"?><a><![CDATA[<b>]]><br/></a>"),
            "<?xml version=\"1.0\"?><a><![CDATA[<b>]]><br/></a>"
        );
    }
}
