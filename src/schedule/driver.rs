//! Drives the admin's cron expressions with tokio-cron-scheduler: one job per distinct
//! expression, whose tick sends the names of the sources on it to the daemon, which decides
//! (with `policy::due`) whether to poll each.
//!
//! One job per expression, not per source: sources share a handful of schedules (a five-field
//! schedule gets one of 60 seconds from the source's name, so at most 60 jobs per schedule),
//! and at 10,000 sources a job each cost a boxed closure, a job record and a parsed schedule
//! per source, and a scheduler walking all of them on each tick. Keeping the jobs this thin
//! means a reload only moves names between groups; no polling state lives here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use uuid::Uuid;

use crate::config::Source;

/// The sources on one expression, shared with that expression's job.
type Members = Arc<Mutex<Vec<Arc<str>>>>;

/// The scheduler, one job per expression in use, and which expression each source is on.
pub struct Driver {
    scheduler: JobScheduler,
    groups: HashMap<String, (Uuid, Members)>,
    expressions: HashMap<String, String>,
    ticks: UnboundedSender<String>,
}

impl Driver {
    pub async fn start(ticks: UnboundedSender<String>) -> Result<Driver, JobSchedulerError> {
        let scheduler = JobScheduler::new().await?;
        scheduler.start().await?;
        Ok(Driver {
            scheduler,
            groups: HashMap::new(),
            expressions: HashMap::new(),
            ticks,
        })
    }

    /// Makes the groups match `sources`: removed sources leave their group, new ones join one,
    /// a source whose schedule changed moves; a group left empty loses its job. Returns the
    /// names of sources that were not on their expression before.
    pub async fn sync(&mut self, sources: &[Source]) -> Result<Vec<String>, JobSchedulerError> {
        let wanted: HashMap<&str, String> = sources
            .iter()
            .map(|source| {
                let expression = super::job_expression(&source.schedule, &source.name);
                (source.name.as_str(), expression)
            })
            .collect();
        let leaving: Vec<(String, String)> = self
            .expressions
            .iter()
            .filter(|(name, expression)| wanted.get(name.as_str()) != Some(*expression))
            .map(|(name, expression)| (name.clone(), expression.clone()))
            .collect();
        for (name, expression) in leaving {
            self.expressions.remove(&name);
            self.leave(&name, &expression).await?;
        }
        let mut added = Vec::new();
        for (name, expression) in wanted {
            if self.expressions.contains_key(name) {
                continue;
            }
            self.join(name, &expression).await?;
            self.expressions.insert(name.to_string(), expression);
            added.push(name.to_string());
        }
        Ok(added)
    }

    async fn join(&mut self, name: &str, expression: &str) -> Result<(), JobSchedulerError> {
        if let Some((_, members)) = self.groups.get(expression) {
            lock(members).push(Arc::from(name));
            return Ok(());
        }
        let members: Members = Arc::new(Mutex::new(vec![Arc::from(name)]));
        let job_members = members.clone();
        let ticks = self.ticks.clone();
        let job = Job::new_async(expression, move |_, _| {
            for name in lock(&job_members).iter() {
                let _ = ticks.send(name.to_string());
            }
            Box::pin(async {})
        })?;
        let id = self.scheduler.add(job).await?;
        self.groups.insert(expression.to_string(), (id, members));
        Ok(())
    }

    async fn leave(&mut self, name: &str, expression: &str) -> Result<(), JobSchedulerError> {
        let Some((id, members)) = self.groups.get(expression) else {
            return Ok(());
        };
        let now_empty = {
            let mut members = lock(members);
            members.retain(|member| &**member != name);
            members.is_empty()
        };
        if now_empty {
            let id = *id;
            self.groups.remove(expression);
            self.scheduler.remove(&id).await?;
        }
        Ok(())
    }

    pub async fn shutdown(mut self) {
        if let Err(error) = self.scheduler.shutdown().await {
            tracing::warn!(%error, "scheduler shutdown");
        }
    }
}

fn lock(members: &Mutex<Vec<Arc<str>>>) -> std::sync::MutexGuard<'_, Vec<Arc<str>>> {
    members
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, schedule: &str) -> Source {
        let text = format!(
            "[[sources]]\nname = \"{name}\"\nurl = \"https://example.com/{name}.xml\"\nschedule = \"{schedule}\"\n"
        );
        crate::config::Config::from_str(&text, std::path::Path::new("t.toml"))
            .expect("valid config")
            .sources
            .remove(0)
    }

    /// Sources on one expression share its job; a source that changes schedule moves, and a
    /// group left empty gives its job back.
    #[tokio::test]
    async fn sources_share_one_job_per_expression() {
        let (ticks, _) = tokio::sync::mpsc::unbounded_channel();
        let mut driver = Driver::start(ticks).await.unwrap();
        let every = "*/5 * * * * *";
        let sources: Vec<Source> = (0..50).map(|i| source(&format!("s{i}"), every)).collect();
        let added = driver.sync(&sources).await.unwrap();
        assert_eq!(added.len(), 50);
        assert_eq!(driver.groups.len(), 1);
        assert_eq!(lock(&driver.groups[every].1).len(), 50);

        let mut changed = sources[..49].to_vec();
        changed.push(source("s49", "*/7 * * * * *"));
        assert_eq!(driver.sync(&changed).await.unwrap(), ["s49"]);
        assert_eq!(driver.groups.len(), 2);
        assert_eq!(lock(&driver.groups[every].1).len(), 49);

        assert!(driver.sync(&changed[..49]).await.unwrap().is_empty());
        assert_eq!(driver.groups.len(), 1, "the emptied group's job is removed");
        driver.shutdown().await;
    }

    /// A tick sends the name of every source on the expression.
    #[tokio::test]
    async fn a_tick_sends_every_member() {
        let (ticks, mut received) = tokio::sync::mpsc::unbounded_channel();
        let mut driver = Driver::start(ticks).await.unwrap();
        let sources = [source("a", "* * * * * *"), source("b", "* * * * * *")];
        driver.sync(&sources).await.unwrap();
        let mut names = Vec::new();
        while names.len() < 2 {
            names.push(received.recv().await.unwrap());
        }
        names.sort();
        assert_eq!(names, ["a", "b"]);
        driver.shutdown().await;
    }
}
