//! The credentials of integrations that authenticated recently, so that checking a SCIM
//! request's token costs no statement (issue #13: it was one of every request's two or three).
//!
//! An entry is used only while no write that can change access has started on this server since
//! it was read — every write except a SCIM request's changes to users and groups
//! ([`super::Db::begin_write_keeping_credentials`]) and the log's bookkeeping — and for at most
//! [`FRESH_FOR`]: a token rotated, an integration disabled or deleted, or a role unbound through
//! another replica, or by a `roster` command in another process, takes effect here within that.
//! On this server it takes effect at once. A miss reads the database, as every request did
//! before. The token itself is still hashed and compared, in constant time, on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::scim_integrations::{self, Credentials};
use super::write_count::WriteCount;
use super::Conn;
use crate::error::AppResult;

/// How long an entry is used at most: the delay before a change made elsewhere applies here.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// Most integrations remembered; past it stale entries are dropped, then all.
const MOST: usize = 1024;

/// One server's remembered credentials, by integration id.
#[derive(Debug, Clone)]
pub struct CredentialCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    access_writes: Arc<WriteCount>,
}

#[derive(Debug)]
struct Entry {
    credentials: Arc<Credentials>,
    /// [`WriteCount::stamp`] of the access writes when the read began.
    stamp: Option<u64>,
    read_at: Instant,
}

impl CredentialCache {
    pub fn new(access_writes: Arc<WriteCount>) -> Self {
        CredentialCache {
            entries: Arc::default(),
            access_writes,
        }
    }

    /// [`scim_integrations::credentials`], from memory while that is still exact.
    pub async fn credentials(
        &self,
        conn: &mut Conn,
        tenant_id: &str,
        id: &str,
    ) -> AppResult<Option<Arc<Credentials>>> {
        if let Some(hit) = self.fresh(tenant_id, id) {
            return Ok(Some(hit));
        }
        let (stamp, read_at) = (self.access_writes.stamp(), Instant::now());
        let Some(read) = scim_integrations::credentials(conn, tenant_id, id).await? else {
            return Ok(None);
        };
        let read = Arc::new(read);
        if stamp.is_some() {
            self.keep(Entry {
                credentials: read.clone(),
                stamp,
                read_at,
            });
        }
        Ok(Some(read))
    }

    /// The count of writes that can change credentials ([`super::Db::begin_write`]).
    pub fn access_writes(&self) -> &Arc<WriteCount> {
        &self.access_writes
    }

    fn fresh(&self, tenant_id: &str, id: &str) -> Option<Arc<Credentials>> {
        // A poisoned lock is a miss: the database answers.
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(id)?;
        (entry.credentials.integration.tenant_id == tenant_id
            && entry.read_at.elapsed() < FRESH_FOR
            && self.access_writes.unchanged_since(entry.stamp))
        .then(|| entry.credentials.clone())
    }

    fn keep(&self, entry: Entry) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MOST {
            entries.retain(|_, e| e.read_at.elapsed() < FRESH_FOR);
            if entries.len() >= MOST {
                entries.clear();
            }
        }
        entries.insert(entry.credentials.integration.id.clone(), entry);
    }
}
