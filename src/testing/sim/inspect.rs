//! Reading what the simulator saw: the request log, mint counts and written resources.

use serde_json::Value;

use super::{RecordedRequest, Simulator};

impl Simulator {
    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Requests whose path contains `path_part`.
    pub fn requests_to(&self, path_part: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.path.contains(path_part))
            .cloned()
            .collect()
    }

    /// The sequence number the next request will get (see [`requests_since`](Self::requests_since)).
    pub(crate) fn next_request_seq(&self) -> u64 {
        self.shared.lock().request_seq
    }

    /// Requests received from sequence number `seq` on, oldest first.
    pub(crate) fn requests_since(&self, seq: u64) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.seq >= seq)
            .cloned()
            .collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// How many tokens were minted over HTTP for an installation.
    pub fn mint_count(&self, installation_id: u64) -> u64 {
        self.shared
            .lock()
            .mints
            .get(&installation_id)
            .copied()
            .unwrap_or(0)
    }

    /// Comments on an issue, oldest first (empty if unknown).
    pub fn comments(&self, owner: &str, repo: &str, number: u64) -> Vec<Value> {
        let mut state = self.shared.lock();
        state
            .issue_mut(owner, repo, number)
            .map(|i| i.comments.clone())
            .unwrap_or_default()
    }

    /// Labels on an issue (empty if unknown).
    pub fn labels(&self, owner: &str, repo: &str, number: u64) -> Vec<Value> {
        let mut state = self.shared.lock();
        state
            .issue_mut(owner, repo, number)
            .map(|i| i.labels.clone())
            .unwrap_or_default()
    }

    /// Commit statuses posted to a repository, oldest first, as `(sha, status)`.
    pub fn statuses(&self, owner: &str, repo: &str) -> Vec<(String, Value)> {
        let state = self.shared.lock();
        let wanted = |k: &(String, String)| k.0 == owner && k.1 == repo;
        state
            .statuses
            .iter()
            .filter(|(k, ..)| wanted(k))
            .map(|(_, sha, s)| (sha.clone(), s.clone()))
            .collect()
    }

    /// Check runs of a repository in id order, as last updated.
    pub fn check_runs(&self, owner: &str, repo: &str) -> Vec<Value> {
        let state = self.shared.lock();
        let wanted = |k: &(String, String)| k.0 == owner && k.1 == repo;
        state
            .check_runs
            .values()
            .filter(|(k, _)| wanted(k))
            .map(|(_, run)| run.clone())
            .collect()
    }
}
