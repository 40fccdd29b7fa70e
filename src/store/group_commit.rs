//! Group commit on SQLite: the passes that finish while another pass is committing are
//! committed together, in one write transaction.
//!
//! Why: a cold poll is dominated by the cost of each commit, not by its rows. Every pass
//! rewrites the same band-index and search-index pages into the WAL, FTS5 flushes a new segment,
//! and the WAL is checkpointed more often (a profile of a 1000-feed cold poll put 81 % of the CPU
//! in the pass commit, 22 % of it in `pwrite`). One transaction for the passes that queued up
//! pays those once per group.
//!
//! How (leader/follower, no extra task): a pass puts itself in the queue, then waits for the
//! connection on the blocking pool. Whoever gets the connection takes the whole queue, commits
//! it and answers every pass in it; a pass whose turn comes after its work was done by another
//! finds the queue empty and just reads its answer. The group is committed optimistically,
//! without a savepoint per pass (a savepoint makes FTS5 flush its pending segment and SQLite
//! journal every page it touches: they cost as much as the commits saved). If any pass fails,
//! the whole group is rolled back and each pass is committed again on its own, so a failing pass
//! fails alone, exactly as without grouping. PostgreSQL does not go through here: its passes
//! commit concurrently, each under the fleet's write lock (see `db::write_transaction`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::db::Connection;
use super::stories::{self, NewItem, PassSummary};
use super::{DedupePolicy, SourceState, StoreError};

/// How long a scheduled drain waits before it takes the queue: a pass's store work takes a few
/// milliseconds on a cold poll, so the passes finishing meanwhile make the group larger (471
/// groups → 80 on the 1000-feed farm); a pass bringing entries is committed this much later,
/// which nobody sees. A pass without entries does not linger: it waits [`one_turn`].
pub const LINGER: std::time::Duration = std::time::Duration::from_millis(10);

/// Waits one turn of the runtime: the tasks already woken run first, and the I/O driver is
/// polled once, so the passes whose answers came in together (a burst of 304s) queue before
/// the drain takes the queue. A lone pass waits no timer: microseconds, not `LINGER`. On the
/// 1000-feed warm poll it took the 304 passes' commits from 325–586 groups to 92–98 (BENCHMARKS.md).
pub async fn one_turn() {
    tokio::task::yield_now().await;
}

/// One pass waiting for the next group commit.
pub struct QueuedPass {
    pub policy: Arc<DedupePolicy>,
    pub state: SourceState,
    pub items: Vec<NewItem>,
    pub now: DateTime<Utc>,
    pub reply: oneshot::Sender<Result<PassSummary, StoreError>>,
}

/// The passes waiting for the connection, and whether a drain is already on its way to them;
/// and how many groups were committed (for the tests and the benchmark's debug log).
#[derive(Default)]
pub struct CommitQueue(Mutex<Waiting>, AtomicUsize);

#[derive(Default)]
struct Waiting {
    passes: Vec<QueuedPass>,
    /// A drain is scheduled and has not taken the queue yet: a pass arriving now will be in
    /// its group, so it needs no drain of its own.
    drain_scheduled: bool,
}

impl CommitQueue {
    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a pass. Returns whether the caller must schedule a drain ([`CommitQueue::drain`]
    /// on the blocking pool): only when none is scheduled. One drain per pass would hold a
    /// blocking thread per waiting pass on the connection's lock, leaving none to parse the
    /// passes that would join the next group (a cold poll committed 471 groups of 2.5 passes
    /// on average that way, each rewriting the same index pages into the WAL).
    pub fn push(&self, pass: QueuedPass) -> bool {
        let mut waiting = self.waiting();
        waiting.passes.push(pass);
        !std::mem::replace(&mut waiting.drain_scheduled, true)
    }

    /// How many groups (transactions of one or more passes) were committed so far.
    #[cfg(test)]
    pub fn groups(&self) -> usize {
        self.1.load(Ordering::Relaxed)
    }

    /// With the connection held: commits every queued pass as one group and answers each.
    /// Taken only once the connection is held, so the passes that arrived during the previous
    /// group's commit all go in this one; a pass arriving after the take schedules the next.
    pub fn drain(&self, connection: &mut Connection) {
        let passes = {
            let mut waiting = self.waiting();
            waiting.drain_scheduled = false;
            std::mem::take(&mut waiting.passes)
        };
        if passes.is_empty() {
            return;
        }
        let group = self.1.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(passes = passes.len(), group, "group commit");
        let results = commit_group(connection, &passes);
        for (pass, result) in passes.into_iter().zip(results) {
            // The pass may have stopped waiting (shutdown): its result is committed anyway.
            let _ = pass.reply.send(result);
        }
    }
}

/// Commits the passes in one write transaction and returns each pass's outcome in order.
/// When a pass fails, or the transaction itself does (begin or commit), nothing of the group is
/// kept and every pass is committed again in a transaction of its own.
pub fn commit_group(
    connection: &mut Connection,
    passes: &[QueuedPass],
) -> Vec<Result<PassSummary, StoreError>> {
    if passes.len() > 1 {
        let grouped = connection.write_transaction(|transaction| {
            let mut summaries = Vec::with_capacity(passes.len());
            for pass in passes {
                summaries.push(stories::commit_pass_within(
                    transaction,
                    &pass.policy,
                    &pass.state,
                    &pass.items,
                    pass.now,
                )?);
            }
            if let Some(last) = passes.last() {
                stories::prune_dedupe_window(transaction, &last.policy, last.now)?;
            }
            Ok(summaries)
        });
        if let Ok(summaries) = grouped {
            return summaries.into_iter().map(Ok).collect();
        }
    }
    passes
        .iter()
        .map(|pass| {
            stories::commit_pass(connection, &pass.policy, &pass.state, &pass.items, pass.now)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::band_index::tests::{item, words};
    use crate::store::{Store, from_epoch};

    fn pass(
        source: &str,
        items: Vec<NewItem>,
    ) -> (
        QueuedPass,
        oneshot::Receiver<Result<PassSummary, StoreError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        let pass = QueuedPass {
            policy: Arc::new(DedupePolicy::default()),
            state: SourceState::new(source, &format!("https://{source}.example/feed")),
            items,
            now: from_epoch(1_700_000_000),
            reply,
        };
        (pass, answer)
    }

    fn keys(store: &Store, source: &str) -> Vec<String> {
        store
            .call_blocking(|connection| {
                connection
                    .query(
                        "SELECT entry_key FROM story_sources WHERE source = ?1 ORDER BY entry_key",
                        crate::store::db::values![source],
                    )?
                    .iter()
                    .map(|row| row.get::<String>(0))
                    .collect()
            })
            .unwrap()
    }

    /// The single number `sql` answers.
    fn count(store: &Store, sql: &str) -> i64 {
        store
            .call_blocking(|connection| connection.query_one(sql, &[])?.get(0))
            .unwrap()
    }

    /// A pass that fails in the middle of a group fails alone: the passes before and after it
    /// are stored, it is not (not even its source's state), and it gets its error.
    #[test]
    fn a_failing_pass_is_rolled_back_alone() {
        let store = Store::open_in_memory().unwrap();
        store
            .call_blocking(|connection| {
                connection.batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON story_sources \
                     WHEN NEW.source = 'broken' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                )
            })
            .unwrap();
        let queue = CommitQueue::default();
        let mut answers = Vec::new();
        for (source, seed) in [("a", 1), ("broken", 2), ("c", 3)] {
            let (queued, answer) = pass(source, vec![item(source, &words(seed, 200))]);
            queue.push(queued);
            answers.push(answer);
        }
        store
            .call_blocking(|connection| {
                queue.drain(connection);
                Ok(())
            })
            .unwrap();
        let results: Vec<_> = answers
            .into_iter()
            .map(|mut answer| answer.try_recv().unwrap())
            .collect();
        assert_eq!(results[0].as_ref().unwrap().new_stories, 1);
        assert!(
            results[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("refused")
        );
        assert_eq!(results[2].as_ref().unwrap().new_stories, 1);
        assert_eq!(keys(&store, "a").len(), 1);
        assert!(keys(&store, "broken").is_empty());
        assert_eq!(keys(&store, "c").len(), 1);
        let saved = count(&store, "SELECT COUNT(*) FROM sources WHERE name = 'broken'");
        assert_eq!(saved, 0, "the failed pass's state was rolled back with it");
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM stories"),
            2,
            "the failed pass's story row was rolled back too"
        );
    }

    /// Two passes of one group carrying the same text: the second sees the first's story
    /// (same transaction) and merges into it, as if they had committed one after the other.
    #[test]
    fn passes_in_one_group_see_each_others_stories() {
        let store = Store::open_in_memory().unwrap();
        let queue = CommitQueue::default();
        let text = words(7, 300);
        let (first, first_answer) = pass("a", vec![item("a", &text)]);
        let (second, second_answer) = pass("b", vec![item("b", &text)]);
        queue.push(first);
        queue.push(second);
        store
            .call_blocking(|connection| {
                queue.drain(connection);
                Ok(())
            })
            .unwrap();
        let first = first_answer.blocking_recv().unwrap().unwrap();
        let second = second_answer.blocking_recv().unwrap().unwrap();
        assert_eq!((first.new_stories, first.merged), (1, 0));
        assert_eq!((second.new_stories, second.merged), (0, 1));
    }

    /// Passes without entries (304s) that finish in the same turn of the runtime share one
    /// transaction, though none lingers: the drain waits a turn (`one_turn`), not a timer.
    #[tokio::test(flavor = "current_thread")]
    async fn passes_without_entries_that_finish_together_share_one_transaction() {
        let store = Store::open_in_memory().unwrap();
        // A first pass alone: its own group, and the blocking pool's thread is started.
        let state = SourceState::new("s", "https://s.example/feed");
        store
            .commit_pass(state, Vec::new(), from_epoch(1))
            .await
            .unwrap();
        assert_eq!(store.commits.groups(), 1);
        let tasks: Vec<_> = (0..50)
            .map(|index| {
                let store = store.clone();
                tokio::spawn(async move {
                    // Stands for a pass's own work on the runtime's thread (reading its
                    // answer): a drain started at the first pass would take it alone.
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    let source = format!("s{index}");
                    let url = format!("https://{source}.example/feed");
                    let state = SourceState::new(&source, &url);
                    store.commit_pass(state, Vec::new(), from_epoch(1)).await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), PassSummary::default());
        }
        assert_eq!(count(&store, "SELECT COUNT(*) FROM sources"), 51);
        assert_eq!(store.commits.groups(), 2, "the 50 passes in one group");
    }

    /// Many passes committed at once through the store: every one answered with its own result
    /// and stored once, whichever group it went in.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_passes_are_all_answered_and_stored() {
        let store = Store::open_in_memory().unwrap();
        let mut tasks = Vec::new();
        for index in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let source = format!("s{index}");
                let state = SourceState::new(&source, &format!("https://{source}.example/feed"));
                let items = vec![item(&source, &words(100 + index, 200))];
                store
                    .commit_pass(state, items, from_epoch(1_700_000_000))
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().new_stories, 1);
        }
        assert_eq!(count(&store, "SELECT COUNT(*) FROM stories"), 40);
    }
}
