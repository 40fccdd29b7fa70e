//! The sources page: every source's health, polls, errors, extraction and a 14-day chart.
//!
//! The same data as `/status` (`status::health` words it the same way), laid out for a person.

use maud::{Markup, html};

use super::layout::{self, Alternate, Shell};
use crate::store::SourceStatus;

/// Days in each source's chart of entries per day.
pub const CHART_DAYS: usize = 14;

/// One row of the page: a source's stored status, its tags and its entries per day.
#[derive(Debug, Clone)]
pub struct SourceRow<'a> {
    pub status: &'a SourceStatus,
    pub tags: &'a [String],
    /// Oldest day first, today last; empty when the source stored nothing in the window.
    pub per_day: &'a [u64],
}

/// Renders the whole page.
pub fn render(shell: &Shell, rows: &[SourceRow<'_>], alternates: &[Alternate]) -> String {
    let body = html! {
        h1 { "Sources" }
        p { (rows.len()) " sources. Times are UTC. The same data as JSON: " a href="/status" { "/status" } "." }
        @for row in rows { (source(row)) }
    };
    layout::page(shell, "Sources", alternates, body)
}

fn source(row: &SourceRow<'_>) -> Markup {
    let state = &row.status.state;
    let health = crate::status::health(row.status);
    let healthy = health == "ok";
    let title = state
        .feed_title
        .as_deref()
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .unwrap_or(&state.name);
    html! {
        section.source id=(format!("source-{}", state.name)) {
            h2 {
                (title)
                @if title != state.name { " " small { "(" (state.name) ")" } }
            }
            p.health.ok[healthy].bad[!healthy] { (health) }
            dl {
                dt { "Feed" } dd { a href=(state.url) { (state.url) } }
                @if let Some(site) = &state.site_link { dt { "Site" } dd { a href=(site) { (site) } } }
                @if !row.tags.is_empty() {
                    dt { "Topics" }
                    dd {
                        @for (index, tag) in row.tags.iter().enumerate() {
                            @if index > 0 { ", " }
                            a href=(super::tag_path(tag)) { "#" (tag) }
                        }
                    }
                }
                dt { "Last success" } dd { (time(state.last_success)) }
                dt { "Next poll" }
                dd {
                    (time(state.next_poll))
                    @if let Some(reason) = &state.next_reason { " — " (reason) }
                }
                dt { "Last error" } dd { (state.last_error.as_deref().unwrap_or("none")) }
                dt { "Extraction" }
                dd {
                    (row.status.recent_extracted) " of "
                    (row.status.recent_extracted + row.status.recent_not_extracted)
                    " recent articles extracted"
                    @if row.status.extraction_degraded() { " (failing)" }
                }
                dt { "Entries" } dd { (row.status.entry_count) " stored" }
            }
            (chart(row.per_day))
        }
    }
}

fn time(time: Option<chrono::DateTime<chrono::Utc>>) -> Markup {
    html! {
        @match time {
            Some(time) => time datetime=(crate::publish::rfc3339(time)) {
                (time.format("%Y-%m-%d %H:%M"))
            },
            None => "never",
        }
    }
}

/// Entries per day as a small bar chart: an inline SVG (no script, no external resource),
/// labelled with the numbers for screen readers and in a tooltip.
pub fn chart(per_day: &[u64]) -> Markup {
    let days: Vec<u64> = if per_day.is_empty() {
        vec![0; CHART_DAYS]
    } else {
        per_day.to_vec()
    };
    let highest = days.iter().copied().max().unwrap_or(0).max(1);
    let label = format!(
        "Entries per day over the last {} days, oldest first: {}",
        days.len(),
        days.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    const BAR: usize = 8;
    const HEIGHT: u64 = 30;
    let width = days.len() * (BAR + 2);
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
            width=(width) height=(HEIGHT + 2) viewBox=(format!("0 0 {width} {}", HEIGHT + 2)) {
            title { (label) }
            line x1="0" y1=(HEIGHT + 1) x2=(width) y2=(HEIGHT + 1) class="axis" {}
            @for (index, count) in days.iter().enumerate() {
                @let height = if *count == 0 { 0 } else { (count * HEIGHT / highest).max(2) };
                rect x=(index * (BAR + 2)) y=(HEIGHT - height) width=(BAR) height=(height) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SourceState;

    fn status(name: &str, failures: u32) -> SourceStatus {
        let mut state = SourceState::new(name, "https://a.example/feed");
        state.consecutive_failures = failures;
        state.last_error = (failures > 0).then(|| "HTTP 500 <oops>".to_string());
        state.next_reason = Some("backoff after failures".into());
        state.last_attempt = Some(chrono::Utc::now());
        SourceStatus {
            state,
            entry_count: 7,
            recent_extracted: 3,
            recent_not_extracted: 1,
        }
    }

    #[test]
    fn every_source_shows_health_error_next_poll_and_a_chart() {
        let failing = status("broken", 2);
        let fine = status("fine", 0);
        let tags = vec!["日本".to_string()];
        let per_day: Vec<u64> = (0..14).collect();
        let rows = [
            SourceRow {
                status: &failing,
                tags: &[],
                per_day: &[],
            },
            SourceRow {
                status: &fine,
                tags: &tags,
                per_day: &per_day,
            },
        ];
        let shell = Shell {
            site_title: "P".into(),
            description: None,
            tags: tags.clone(),
        };
        let html = render(&shell, &rows, &[]);
        assert!(html.contains("failing (2x)"), "{html}");
        assert!(html.contains("HTTP 500 &lt;oops&gt;"));
        assert!(html.contains("backoff after failures"));
        assert!(html.contains("3 of 4 recent articles extracted"));
        assert!(html.contains("oldest first: 0, 1, 2, 3"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("<rect").count(), 28);
        assert!(html.contains("href=\"/tags/%E6%97%A5%E6%9C%AC\">#日本</a>"));
    }

    #[test]
    fn bars_scale_to_the_busiest_day() {
        let chart = chart(&[0, 5, 10]).into_string();
        assert!(
            chart.contains("y=\"30\" width=\"8\" height=\"0\""),
            "{chart}"
        );
        assert!(
            chart.contains("y=\"15\" width=\"8\" height=\"15\""),
            "{chart}"
        );
        assert!(
            chart.contains("y=\"0\" width=\"8\" height=\"30\""),
            "{chart}"
        );
    }
}
