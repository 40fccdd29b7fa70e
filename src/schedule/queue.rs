//! The due-queue behind the cron driver: every source's next cron tick, in time order; pure.
//!
//! One ordered set of `(next tick, source)` replaces one scheduler job per source: with 10,000
//! sources, a job each cost a boxed closure, a job record and a parsed schedule per source, and
//! a scheduler that walked them all on every tick. Here a source costs its name and its time,
//! an expression is parsed once however many sources share it, and finding what is due reads
//! the front of the set.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// Sources ordered by their next cron tick.
#[derive(Default)]
pub struct DueQueue {
    /// Each source's job expression and next tick (the key of its place in `order`).
    sources: HashMap<Arc<str>, Scheduled>,
    order: BTreeSet<(DateTime<Utc>, Arc<str>)>,
    /// Parsed expressions, shared by the sources that use them.
    crons: HashMap<Arc<str>, croner::Cron>,
}

struct Scheduled {
    expression: Arc<str>,
    next: Option<DateTime<Utc>>,
}

impl DueQueue {
    /// Makes the queue hold exactly `wanted` (source name, job expression): removed sources
    /// leave, new ones and those whose expression changed get their next tick after `now`.
    /// Returns the names of sources that were not queued before.
    pub fn sync<'a>(
        &mut self,
        wanted: impl IntoIterator<Item = (&'a str, String)>,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        let wanted: HashMap<&str, String> = wanted.into_iter().collect();
        let stale: Vec<Arc<str>> = self
            .sources
            .iter()
            .filter(|(name, scheduled)| {
                wanted.get(&***name).map(String::as_str) != Some(&*scheduled.expression)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            self.remove(&name);
        }
        let mut added = Vec::new();
        for (name, expression) in wanted {
            if self.sources.contains_key(name) {
                continue;
            }
            let name: Arc<str> = Arc::from(name);
            let expression = self.shared_expression(&expression);
            let next = self.next_tick(&expression, now);
            if let Some(next) = next {
                self.order.insert((next, name.clone()));
            }
            self.sources
                .insert(name.clone(), Scheduled { expression, next });
            added.push(name.to_string());
        }
        self.forget_unused_expressions();
        added
    }

    /// The sources whose tick has come by `now`, earliest first; each is queued again at its
    /// next tick after `now` (ticks missed meanwhile fire once, as a late scheduler would).
    pub fn pop_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut due = Vec::new();
        while let Some((tick, name)) = self.order.first().cloned()
            && tick <= now
        {
            self.order.pop_first();
            let next = self
                .sources
                .get(&name)
                .map(|scheduled| scheduled.expression.clone())
                .and_then(|expression| self.next_tick(&expression, now));
            if let Some(scheduled) = self.sources.get_mut(&name) {
                scheduled.next = next;
            }
            if let Some(next) = next {
                self.order.insert((next, name.clone()));
            }
            due.push(name.to_string());
        }
        due
    }

    /// When the earliest queued tick comes, if any source has one.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.order.first().map(|(tick, _)| *tick)
    }

    /// How many sources are queued (with or without a future tick).
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    fn remove(&mut self, name: &Arc<str>) {
        if let Some(scheduled) = self.sources.remove(name)
            && let Some(next) = scheduled.next
        {
            self.order.remove(&(next, name.clone()));
        }
    }

    /// The one copy of `expression` every source using it points to, parsed once.
    fn shared_expression(&mut self, expression: &str) -> Arc<str> {
        if let Some((shared, _)) = self.crons.get_key_value(expression) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(expression);
        if let Ok(cron) = crate::config::parse_cron(expression) {
            self.crons.insert(shared.clone(), cron);
        }
        shared
    }

    fn next_tick(&self, expression: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.crons
            .get(expression)?
            .find_next_occurrence(&after, false)
            .ok()
    }

    fn forget_unused_expressions(&mut self) {
        let used: std::collections::HashSet<&str> = self
            .sources
            .values()
            .map(|scheduled| &*scheduled.expression)
            .collect();
        let unused: Vec<Arc<str>> = self
            .crons
            .keys()
            .filter(|expression| !used.contains(&***expression))
            .cloned()
            .collect();
        for expression in unused {
            self.crons.remove(&expression);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn wanted(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        list.iter()
            .map(|(name, expression)| (*name, expression.to_string()))
            .collect()
    }

    #[test]
    fn sources_come_due_at_their_ticks_in_time_order() {
        let mut queue = DueQueue::default();
        let now = at("2026-01-01T12:00:00Z");
        let added = queue.sync(
            wanted(&[("b", "30 */5 * * * *"), ("a", "10 */5 * * * *")]),
            now,
        );
        assert_eq!(added.len(), 2);
        assert_eq!(queue.next_due(), Some(at("2026-01-01T12:00:10Z")));
        assert!(queue.pop_due(at("2026-01-01T12:00:09Z")).is_empty());
        assert_eq!(queue.pop_due(at("2026-01-01T12:00:40Z")), ["a", "b"]);
        assert_eq!(queue.next_due(), Some(at("2026-01-01T12:05:10Z")));
    }

    #[test]
    fn missed_ticks_fire_once_and_the_next_is_after_now() {
        let mut queue = DueQueue::default();
        queue.sync(wanted(&[("a", "0 * * * * *")]), at("2026-01-01T12:00:30Z"));
        assert_eq!(queue.pop_due(at("2026-01-01T12:10:30Z")), ["a"]);
        assert_eq!(queue.next_due(), Some(at("2026-01-01T12:11:00Z")));
        assert!(queue.pop_due(at("2026-01-01T12:10:59Z")).is_empty());
    }

    #[test]
    fn a_sync_drops_removed_sources_and_requeues_changed_ones() {
        let mut queue = DueQueue::default();
        let now = at("2026-01-01T12:00:00Z");
        queue.sync(wanted(&[("a", "0 * * * * *"), ("b", "0 0 * * * *")]), now);
        let mut added = queue.sync(wanted(&[("b", "0 30 * * * *"), ("c", "0 0 * * * *")]), now);
        added.sort();
        assert_eq!(added, ["b", "c"], "b changed its schedule, c is new");
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.next_due(), Some(at("2026-01-01T12:30:00Z")));
        assert_eq!(queue.pop_due(at("2026-01-01T13:00:00Z")), ["b", "c"]);
        assert_eq!(queue.crons.len(), 2, "the minute expression was forgotten");
    }

    #[test]
    fn an_unchanged_source_keeps_its_place_and_is_not_reported_as_new() {
        let mut queue = DueQueue::default();
        queue.sync(wanted(&[("a", "0 0 * * * *")]), at("2026-01-01T12:00:00Z"));
        let added = queue.sync(wanted(&[("a", "0 0 * * * *")]), at("2026-01-01T12:59:00Z"));
        assert!(added.is_empty());
        assert_eq!(queue.next_due(), Some(at("2026-01-01T13:00:00Z")));
    }

    #[test]
    fn sources_sharing_an_expression_share_one_parse() {
        let mut queue = DueQueue::default();
        let names: Vec<String> = (0..100).map(|n| format!("s{n}")).collect();
        queue.sync(
            names
                .iter()
                .map(|name| (name.as_str(), "0 */15 * * * *".to_string())),
            at("2026-01-01T12:00:00Z"),
        );
        assert_eq!(queue.crons.len(), 1);
        assert_eq!(queue.pop_due(at("2026-01-01T12:15:00Z")).len(), 100);
    }
}
