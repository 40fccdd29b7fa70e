//! Drives the admin's cron expressions with tokio-cron-scheduler: each tick sends the source's
//! name to the daemon, which decides (with `policy::due`) whether to poll it.
//!
//! Keeping the jobs this thin means a reload only swaps jobs; no polling state lives here.

use std::collections::HashMap;

use tokio::sync::mpsc::UnboundedSender;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use uuid::Uuid;

use crate::config::Source;

/// The scheduler and one job per source.
pub struct Driver {
    scheduler: JobScheduler,
    jobs: HashMap<String, (String, Uuid)>,
    ticks: UnboundedSender<String>,
}

impl Driver {
    pub async fn start(ticks: UnboundedSender<String>) -> Result<Driver, JobSchedulerError> {
        let scheduler = JobScheduler::new().await?;
        scheduler.start().await?;
        Ok(Driver {
            scheduler,
            jobs: HashMap::new(),
            ticks,
        })
    }

    /// Makes the jobs match `sources`: removed sources lose their job, new ones get one, and a
    /// source whose schedule changed gets a new job. Returns the names of new sources.
    pub async fn sync(&mut self, sources: &[Source]) -> Result<Vec<String>, JobSchedulerError> {
        let wanted: HashMap<&str, String> = sources
            .iter()
            .map(|source| {
                let expression = super::job_expression(&source.schedule, &source.name);
                (source.name.as_str(), expression)
            })
            .collect();
        let stale: Vec<String> = self
            .jobs
            .iter()
            .filter(|(name, (expression, _))| wanted.get(name.as_str()) != Some(expression))
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some((_, id)) = self.jobs.remove(&name) {
                self.scheduler.remove(&id).await?;
            }
        }
        let mut added = Vec::new();
        for (name, expression) in wanted {
            if self.jobs.contains_key(name) {
                continue;
            }
            let ticks = self.ticks.clone();
            let source_name = name.to_string();
            let job = Job::new_async(expression.as_str(), move |_, _| {
                let _ = ticks.send(source_name.clone());
                Box::pin(async {})
            })?;
            let id = self.scheduler.add(job).await?;
            self.jobs.insert(name.to_string(), (expression, id));
            added.push(name.to_string());
        }
        Ok(added)
    }

    pub async fn shutdown(mut self) {
        if let Err(error) = self.scheduler.shutdown().await {
            tracing::warn!(%error, "scheduler shutdown");
        }
    }
}
