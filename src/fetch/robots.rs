//! A small robots.txt parser and matcher (RFC 9309, Google's reading of it); pure, no IO.
//!
//! Groups start with one or more `User-agent` lines; every group naming one of our product
//! tokens applies (merged), else every `*` group, else nothing is disallowed. Among the rules of
//! the applicable groups the longest matching pattern wins and `Allow` wins a tie. Patterns
//! support `*` (any run of characters) and a final `$` (end of the URL path).

/// The product token robots.txt groups are matched against, whatever the configured UA says.
pub const PRODUCT_TOKEN: &str = "tributary";

/// A parsed robots.txt: all its groups, so that one cached copy serves every User-Agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RobotsTxt {
    groups: Vec<Group>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Group {
    /// Lower-cased product tokens from the `User-agent` lines (`*` kept as is).
    agents: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// The path pattern, with non-ASCII bytes percent-encoded like URL paths are.
    pattern: String,
}

impl RobotsTxt {
    /// Parses robots.txt text; unknown lines and lines outside any group are ignored.
    pub fn parse(text: &str) -> RobotsTxt {
        let mut groups: Vec<Group> = Vec::new();
        // True while we are still reading the User-agent lines that open a group.
        let mut reading_agents = false;
        for line in text.lines() {
            let Some((key, value)) = split_line(line) else {
                continue;
            };
            match key.as_str() {
                "user-agent" => {
                    if !reading_agents {
                        groups.push(Group::default());
                        reading_agents = true;
                    }
                    if let Some(group) = groups.last_mut() {
                        group.agents.push(agent_token(value));
                    }
                }
                "allow" | "disallow" => {
                    reading_agents = false;
                    let Some(group) = groups.last_mut() else {
                        continue;
                    };
                    // An empty pattern matches nothing (an empty Disallow allows everything).
                    if !value.is_empty() {
                        group.rules.push(Rule {
                            allow: key == "allow",
                            pattern: encode_pattern(value),
                        });
                    }
                }
                // Other records (sitemap, crawl-delay...) neither open nor close a group.
                _ => {}
            }
        }
        RobotsTxt { groups }
    }

    /// Whether `path` (the URL's path plus `?query`, as sent on the wire) may be fetched by a
    /// crawler known by any of `agent_tokens` (lower case).
    pub fn is_allowed(&self, agent_tokens: &[&str], path: &str) -> bool {
        if path == "/robots.txt" {
            return true;
        }
        let named: Vec<&Group> = self
            .groups
            .iter()
            .filter(|group| {
                group
                    .agents
                    .iter()
                    .any(|agent| agent_tokens.contains(&agent.as_str()))
            })
            .collect();
        let applicable = if named.is_empty() {
            self.groups
                .iter()
                .filter(|group| group.agents.iter().any(|agent| agent == "*"))
                .collect()
        } else {
            named
        };
        let mut best: Option<(usize, bool)> = None;
        for rule in applicable.iter().flat_map(|group| &group.rules) {
            if !pattern_matches(&rule.pattern, path) {
                continue;
            }
            let length = rule.pattern.len();
            let better = match best {
                None => true,
                Some((best_length, best_allow)) => {
                    length > best_length || (length == best_length && rule.allow && !best_allow)
                }
            };
            if better {
                best = Some((length, rule.allow));
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Splits `key: value`, dropping comments; the key is lower-cased.
fn split_line(line: &str) -> Option<(String, &str)> {
    let without_comment = line.split('#').next().unwrap_or("");
    let (key, value) = without_comment.split_once(':')?;
    Some((key.trim().to_ascii_lowercase(), value.trim()))
}

/// The product token of a `User-agent` value: `Tributary/1.0 (x)` gives `tributary`.
fn agent_token(value: &str) -> String {
    if value.starts_with('*') {
        return "*".to_string();
    }
    value
        .chars()
        .take_while(|character| character.is_ascii_alphanumeric() || "-_".contains(*character))
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The product token of a configured User-Agent header (`tributary/0.1 (+url)` -> `tributary`).
pub fn user_agent_token(user_agent: &str) -> String {
    agent_token(user_agent.trim())
}

/// Percent-encodes non-ASCII bytes so patterns compare with URL paths, which `url` encodes.
fn encode_pattern(pattern: &str) -> String {
    let mut encoded = String::with_capacity(pattern.len());
    for byte in pattern.bytes() {
        if byte.is_ascii() {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Prefix match of `pattern` against `path`, with `*` wildcards and an optional final `$`.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let pieces: Vec<&str> = pattern.split('*').collect();
    let Some(rest) = path.strip_prefix(pieces[0]) else {
        return false;
    };
    if pieces.len() == 1 {
        return !anchored || rest.is_empty();
    }
    let (middle, last) = pieces[1..].split_at(pieces.len() - 2);
    let mut position = path.len() - rest.len();
    for piece in middle {
        match path[position..].find(piece) {
            Some(offset) => position += offset + piece.len(),
            None => return false,
        }
    }
    let last = last[0];
    if anchored {
        // The last piece must end the path, after everything matched so far.
        path.len() >= position + last.len() && path.ends_with(last)
    } else {
        path[position..].contains(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: &[&str] = &["tributary"];

    fn allowed(robots: &str, path: &str) -> bool {
        RobotsTxt::parse(robots).is_allowed(US, path)
    }

    #[test]
    fn empty_file_allows_everything() {
        assert!(allowed("", "/anything"));
        assert!(allowed("# nothing here\n", "/"));
    }

    #[test]
    fn star_group_disallows_prefix() {
        let robots = "User-agent: *\nDisallow: /private/\n";
        assert!(!allowed(robots, "/private/page.html"));
        assert!(allowed(robots, "/public/page.html"));
        assert!(allowed(robots, "/private"));
    }

    #[test]
    fn our_group_replaces_star_group() {
        let robots =
            "User-agent: *\nDisallow: /\n\nUser-agent: Tributary/2.0\nDisallow: /drafts/\n";
        assert!(allowed(robots, "/news/1"));
        assert!(!allowed(robots, "/drafts/1"));
        assert!(!RobotsTxt::parse(robots).is_allowed(&["otherbot"], "/news/1"));
    }

    #[test]
    fn groups_naming_us_are_merged_and_agent_lines_stack() {
        let robots = "User-agent: googlebot\nUser-agent: tributary\nDisallow: /a/\n\n\
                      User-agent: tributary\nDisallow: /b/\n";
        assert!(!allowed(robots, "/a/x"));
        assert!(!allowed(robots, "/b/x"));
        assert!(allowed(robots, "/c/x"));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let robots = "User-agent: *\nDisallow: /news/\nAllow: /news/public/\n";
        assert!(allowed(robots, "/news/public/1"));
        assert!(!allowed(robots, "/news/secret/1"));
        let tie = "User-agent: *\nDisallow: /page\nAllow: /page\n";
        assert!(allowed(tie, "/page"));
        let longer_disallow = "User-agent: *\nAllow: /a\nDisallow: /a/b\n";
        assert!(!allowed(longer_disallow, "/a/b/c"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let robots = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?print=\nDisallow: /x*/y\n";
        assert!(!allowed(robots, "/docs/report.pdf"));
        assert!(allowed(robots, "/docs/report.pdf.html"));
        assert!(allowed(robots, "/article?id=1&print=1"));
        assert!(!allowed(robots, "/article?print=1"));
        assert!(!allowed(robots, "/xa/b/y/z"));
        assert!(allowed(robots, "/xa/b/z"));
    }

    #[test]
    fn end_anchor_without_wildcard_is_exact() {
        let robots = "User-agent: *\nDisallow: /$\n";
        assert!(!allowed(robots, "/"));
        assert!(allowed(robots, "/index.html"));
    }

    #[test]
    fn empty_disallow_allows_and_comments_are_ignored() {
        let robots = "User-agent: * # everyone\nDisallow:   # nothing\n";
        assert!(allowed(robots, "/x"));
    }

    #[test]
    fn rules_before_any_group_are_ignored_and_sitemap_does_not_split_groups() {
        let robots = "Disallow: /\nUser-agent: *\nSitemap: https://e.org/s.xml\nDisallow: /tmp\n";
        assert!(allowed(robots, "/x"));
        assert!(!allowed(robots, "/tmp/1"));
    }

    #[test]
    fn robots_txt_itself_is_always_allowed() {
        assert!(allowed("User-agent: *\nDisallow: /\n", "/robots.txt"));
    }

    #[test]
    fn non_ascii_patterns_match_encoded_paths() {
        let robots = "User-agent: *\nDisallow: /été/\n";
        assert!(!allowed(robots, "/%C3%A9t%C3%A9/article"));
    }

    #[test]
    fn user_agent_token_takes_the_product_name() {
        assert_eq!(user_agent_token("tributary/0.1 (+https://x)"), "tributary");
        assert_eq!(user_agent_token("MyReader/2"), "myreader");
    }
}
