//! A minimal XML writer: escaping, characters XML forbids removed, indentation for readable diffs.
//!
//! Written by hand rather than through a generic serializer so every byte of the Atom and RSS
//! output is visible in one place; the escaping rules are the whole of XML's that apply here.

/// Removes characters that XML 1.0 forbids (C0 controls other than tab, newline and carriage
/// return; U+FFFE and U+FFFF) and the C1 controls and DEL it discourages, which in feed text are
/// always debris of a mis-decoded page.
pub fn strip_invalid_chars(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(is_allowed_char) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|c| is_allowed_char(*c)).collect())
    }
}

fn is_allowed_char(character: char) -> bool {
    match character {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{FFFE}' | '\u{FFFF}' => false,
        _ => true,
    }
}

/// Escapes character data.
pub fn escape_text(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    for character in strip_invalid_chars(text).chars() {
        match character {
            '&' => output.push_str("&amp;"),
            '<' => output.push_str("&lt;"),
            '>' => output.push_str("&gt;"),
            '\r' => output.push_str("&#13;"),
            _ => output.push(character),
        }
    }
    output
}

/// Escapes an attribute value (double-quoted); whitespace controls are kept as references so a
/// parser does not normalise them to spaces.
pub fn escape_attribute(value: &str) -> String {
    let mut output = String::with_capacity(value.len());
    for character in strip_invalid_chars(value).chars() {
        match character {
            '&' => output.push_str("&amp;"),
            '<' => output.push_str("&lt;"),
            '>' => output.push_str("&gt;"),
            '"' => output.push_str("&quot;"),
            '\t' => output.push_str("&#9;"),
            '\n' => output.push_str("&#10;"),
            '\r' => output.push_str("&#13;"),
            _ => output.push(character),
        }
    }
    output
}

/// Builds an XML document element by element, indenting two spaces per level.
pub struct XmlWriter {
    output: String,
    open_elements: Vec<&'static str>,
}

impl XmlWriter {
    pub fn new() -> XmlWriter {
        XmlWriter {
            output: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
            open_elements: Vec::new(),
        }
    }

    /// Opens an element whose children follow.
    pub fn open(&mut self, name: &'static str, attributes: &[(&str, &str)]) {
        self.start_tag(name, attributes, ">\n");
        self.open_elements.push(name);
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) {
        let name = self.open_elements.pop().expect("close matches an open");
        self.indent();
        self.output.push_str("</");
        self.output.push_str(name);
        self.output.push_str(">\n");
    }

    /// An element holding only text.
    pub fn text(&mut self, name: &'static str, attributes: &[(&str, &str)], text: &str) {
        self.start_tag(name, attributes, ">");
        self.output.push_str(&escape_text(text));
        self.output.push_str("</");
        self.output.push_str(name);
        self.output.push_str(">\n");
    }

    /// An element with attributes only.
    pub fn empty(&mut self, name: &'static str, attributes: &[(&str, &str)]) {
        self.start_tag(name, attributes, "/>\n");
    }

    pub fn finish(mut self) -> String {
        while !self.open_elements.is_empty() {
            self.close();
        }
        self.output
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, &str)], end: &str) {
        self.indent();
        self.output.push('<');
        self.output.push_str(name);
        for (attribute, value) in attributes {
            self.output.push(' ');
            self.output.push_str(attribute);
            self.output.push_str("=\"");
            self.output.push_str(&escape_attribute(value));
            self.output.push('"');
        }
        self.output.push_str(end);
    }

    fn indent(&mut self) {
        for _ in 0..self.open_elements.len() {
            self.output.push_str("  ");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_strips_forbidden_characters() {
        assert_eq!(
            escape_text("a < b && c > d\u{0}\u{8}\u{1b}\u{85}\u{FFFF}"),
            "a &lt; b &amp;&amp; c &gt; d"
        );
        assert_eq!(
            escape_attribute("say \"hi\"\n<&>"),
            "say &quot;hi&quot;&#10;&lt;&amp;&gt;"
        );
        assert_eq!(escape_text("tab\tnew\nline"), "tab\tnew\nline");
    }

    #[test]
    fn writes_nested_elements() {
        let mut writer = XmlWriter::new();
        writer.open("feed", &[("xmlns", "urn:x")]);
        writer.text("title", &[("type", "text")], "Tom & Jerry");
        writer.empty("link", &[("href", "https://e.org/?a=1&b=2")]);
        let xml = writer.finish();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"urn:x\">\n  \
             <title type=\"text\">Tom &amp; Jerry</title>\n  \
             <link href=\"https://e.org/?a=1&amp;b=2\"/>\n</feed>\n"
        );
    }
}
