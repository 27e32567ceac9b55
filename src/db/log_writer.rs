//! The SCIM request log's writer: requests queue their entries (and their token's last-use stamp)
//! and one background task per process writes them in batches, in a write transaction of its own.
//! So a read request writes nothing (it needs neither the writer's turn nor a write lock, and other
//! connections' page caches stay warm), and a write request's transaction carries only its
//! resource. Readers of the log call [`LogWriter::flush`] first, so they see every entry this
//! process has queued. The price: entries queued in the last [`BATCH_WAIT`] before a crash are
//! lost (the resources they describe are not: those were committed before the answer).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::scim_log::{self, LogEntry};
use super::Db;
use crate::clock::Millis;
use crate::error::AppResult;

/// How long the writer gathers entries before writing a batch.
pub const BATCH_WAIT: Duration = Duration::from_millis(50);
/// Most entries written in one transaction.
const BATCH_MAX: usize = 500;
/// Entries waiting beyond this make requests wait for room (nothing is dropped).
const QUEUE_MAX: usize = 10_000;
/// A batch that cannot be written is tried this many times before it is given up (and logged).
const ATTEMPTS: u32 = 3;

/// One request's entry, as queued.
#[derive(Debug, Clone)]
pub struct Queued {
    pub integration_id: String,
    pub entry: LogEntry,
    /// The token the request authenticated with, when its last-use stamp is due.
    pub token_used: Option<String>,
}

enum Message {
    Entry(Box<Queued>),
    Flush(oneshot::Sender<()>),
}

/// The queue of one database handle (cloned with it); the writer task starts with the first entry.
#[derive(Clone, Default)]
pub struct LogWriter {
    queue: Arc<OnceLock<mpsc::Sender<Message>>>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogWriter")
    }
}

impl LogWriter {
    /// Queues an entry; waits only when [`QUEUE_MAX`] entries are already waiting.
    pub async fn append(&self, db: &Db, queued: Queued) {
        let sender = self.sender(db);
        if sender.send(Message::Entry(Box::new(queued))).await.is_err() {
            tracing::warn!("the SCIM request log's writer has stopped; an entry was not recorded");
        }
    }

    /// Returns once every entry queued before the call is written (or given up).
    pub async fn flush(&self) {
        let Some(sender) = self.queue.get() else {
            return; // nothing was ever queued
        };
        let (done, written) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    fn sender(&self, db: &Db) -> &mpsc::Sender<Message> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_MAX);
            tokio::spawn(run(db.clone(), receiver));
            sender
        })
    }
}

/// The writer task: gathers for [`BATCH_WAIT`] (or until a flush is asked for or the batch is
/// full), writes, answers the flushes, and repeats until every handle is gone.
async fn run(db: Db, mut receiver: mpsc::Receiver<Message>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Entry(q) => batch.push(*q),
                Message::Flush(done) => flushes.push(done),
            }
            if !flushes.is_empty() || batch.len() >= BATCH_MAX {
                // Take what is already queued, without waiting.
                while batch.len() < BATCH_MAX {
                    match receiver.try_recv() {
                        Ok(Message::Entry(q)) => batch.push(*q),
                        Ok(Message::Flush(done)) => flushes.push(done),
                        Err(_) => break,
                    }
                }
                break;
            }
            next = tokio::time::timeout_at(deadline, receiver.recv())
                .await
                .ok()
                .flatten();
        }
        write_with_retries(&db, &batch).await;
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn write_with_retries(db: &Db, batch: &[Queued]) {
    if batch.is_empty() {
        return;
    }
    for attempt in 1..=ATTEMPTS {
        match write(db, batch).await {
            Ok(()) => return,
            Err(e) if attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "SCIM request log batch not written; retrying");
                tokio::time::sleep(BATCH_WAIT * attempt).await;
            }
            Err(e) => tracing::warn!(
                error = %e,
                entries = batch.len(),
                "could not record SCIM requests in the log"
            ),
        }
    }
}

/// One batch in one transaction: the entries, then each token's newest stamp. Entries of an
/// integration deleted since its request was answered go with it (as its log did): one such
/// entry would otherwise fail the batch on the log's foreign key, and with it the entries of
/// every other integration. On PostgreSQL a delete that commits between the check and the
/// insert fails the attempt; the retry checks again.
async fn write(db: &Db, batch: &[Queued]) -> AppResult<()> {
    let mut tx = db.begin_write_keeping_credentials().await?;
    let mut named: Vec<&str> = batch.iter().map(|q| q.integration_id.as_str()).collect();
    named.sort_unstable();
    named.dedup();
    let live = scim_log::existing_integrations(&mut tx, &named).await?;
    let entries: Vec<(&str, &LogEntry)> = batch
        .iter()
        .filter(|q| live.contains(&q.integration_id))
        .map(|q| (q.integration_id.as_str(), &q.entry))
        .collect();
    if entries.len() < batch.len() {
        tracing::debug!(
            dropped = batch.len() - entries.len(),
            "SCIM log entries of deleted integrations not recorded"
        );
    }
    let trims = scim_log::record_many(&mut tx, &entries).await?;
    let mut stamps: HashMap<&str, Millis> = HashMap::new();
    for q in batch {
        if let Some(token) = &q.token_used {
            let at = stamps.entry(token).or_insert(q.entry.at);
            *at = (*at).max(q.entry.at);
        }
    }
    for (token, at) in stamps {
        super::iam::mark_token_used(&mut tx, token, at).await?;
    }
    tx.commit().await?;
    trims.remember();
    Ok(())
}
