//! What the listeners said about a track, library-wide: loved, banned (and since when), and
//! how often it started playing, was skipped by a session's owner, and was loved.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    pub loved: bool,
    /// When it was banned (ms since the UNIX epoch); `None`: not banned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banned_at: Option<i64>,
    /// Times it started playing in a session.
    pub plays: u64,
    /// Times a session's owner skipped it.
    pub skips: u64,
    /// Times it was loved (a love taken back and given again counts twice).
    pub loves: u64,
}

impl Mark {
    pub fn banned(&self) -> bool {
        self.banned_at.is_some()
    }
}
