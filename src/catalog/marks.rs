//! Love and ban as the station sees them: every track's [`Mark`] in memory (for the walk and
//! the API), the [`Preferences`] snapshot each walk reads at every pick (bans, loves and the
//! no-repeat horizon; replaced, never mutated, when a ban or love changes), and a sink the
//! server sets that writes each changed mark through to the store.
use crate::model::{Mark, TrackId};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// Default no-repeat horizon: 12 hours of a session's audio (s).
pub const DEFAULT_HORIZON_SECS: f64 = 12.0 * 3600.0;

/// What every walk of the station obeys and prefers, library-wide: the horizon, the banned
/// tracks (never picked) and the loved ones (preferred among near neighbours).
#[derive(Clone, Debug, PartialEq)]
pub struct Preferences {
    /// No track again within this much of a session's audio (s).
    pub horizon_secs: f64,
    pub banned: HashSet<TrackId>,
    pub loved: HashSet<TrackId>,
}

impl Default for Preferences {
    fn default() -> Preferences {
        Preferences {
            horizon_secs: DEFAULT_HORIZON_SECS,
            banned: HashSet::new(),
            loved: HashSet::new(),
        }
    }
}

/// Writes one track's mark to lasting storage.
pub type Sink = Arc<dyn Fn(&TrackId, &Mark) + Send + Sync>;

/// Every track's mark, shared by the sessions (which count plays and read bans) and the API.
#[derive(Default)]
pub struct MarkBook {
    table: RwLock<HashMap<TrackId, Mark>>,
    prefs: RwLock<Arc<Preferences>>,
    sink: RwLock<Option<Sink>>,
}

impl MarkBook {
    /// Starts from the stored marks, writing changes to `sink`, with this horizon (s).
    pub fn load(&self, marks: Vec<(TrackId, Mark)>, horizon_secs: f64, sink: Option<Sink>) {
        *self.table.write().unwrap_or_else(|p| p.into_inner()) = marks.into_iter().collect();
        *self.sink.write().unwrap_or_else(|p| p.into_inner()) = sink;
        self.publish(Some(horizon_secs));
    }

    /// The bans, loves and horizon every walk reads (cheap: an `Arc`).
    pub fn prefs(&self) -> Arc<Preferences> {
        self.prefs.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The mark of `id` (all zero when nothing was said about it).
    pub fn get(&self, id: &TrackId) -> Mark {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        table.get(id).cloned().unwrap_or_default()
    }

    /// Banned tracks with when (ms since the UNIX epoch), the latest first.
    pub fn banned(&self) -> Vec<(TrackId, i64)> {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(TrackId, i64)> = table
            .iter()
            .filter_map(|(id, m)| m.banned_at.map(|at| (id.clone(), at)))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// A track started playing in a session.
    pub fn played(&self, id: &TrackId) -> Mark {
        self.change(id, |m| m.plays += 1)
    }

    /// A session's owner skipped the track.
    pub fn skipped(&self, id: &TrackId) -> Mark {
        self.change(id, |m| m.skips += 1)
    }

    /// Loves the track (`true`) or takes the love back; a new love is counted.
    pub fn love(&self, id: &TrackId, loved: bool) -> Mark {
        self.change(id, |m| {
            if loved && !m.loved {
                m.loves += 1;
            }
            m.loved = loved;
        })
    }

    /// Bans the track from every session (at `at_ms`; a track already banned keeps its time).
    pub fn ban(&self, id: &TrackId, at_ms: i64) -> Mark {
        self.change(id, |m| {
            m.banned_at.get_or_insert(at_ms);
        })
    }

    /// Lifts a ban; `None` when the track was not banned.
    pub fn unban(&self, id: &TrackId) -> Option<Mark> {
        self.get(id)
            .banned()
            .then(|| self.change(id, |m| m.banned_at = None))
    }

    fn change(&self, id: &TrackId, f: impl FnOnce(&mut Mark)) -> Mark {
        let (mark, prefs_changed) = {
            let mut table = self.table.write().unwrap_or_else(|p| p.into_inner());
            let m = table.entry(id.clone()).or_default();
            let before = (m.loved, m.banned());
            f(m);
            (m.clone(), before != (m.loved, m.banned()))
        };
        if prefs_changed {
            self.publish(None);
        }
        let sink = self.sink.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(sink) = sink {
            sink(id, &mark);
        }
        mark
    }

    /// Rebuilds the preferences snapshot from the table (with a new horizon, if given).
    fn publish(&self, horizon_secs: Option<f64>) {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        let ids = |f: fn(&Mark) -> bool| -> HashSet<TrackId> {
            table
                .iter()
                .filter(|(_, m)| f(m))
                .map(|(id, _)| id.clone())
                .collect()
        };
        let mut slot = self.prefs.write().unwrap_or_else(|p| p.into_inner());
        *slot = Arc::new(Preferences {
            horizon_secs: horizon_secs.unwrap_or(slot.horizon_secs),
            banned: ids(Mark::banned),
            loved: ids(|m| m.loved),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn marks_count_and_bans_reach_the_preferences_and_the_sink() {
        let book = MarkBook::default();
        let written = Arc::new(Mutex::new(Vec::new()));
        let w = written.clone();
        book.load(
            vec![(
                TrackId("old".into()),
                Mark {
                    plays: 4,
                    ..Mark::default()
                },
            )],
            3600.0,
            Some(Arc::new(move |id: &TrackId, m: &Mark| {
                w.lock().unwrap().push((id.clone(), m.clone()))
            })),
        );
        let a = TrackId("a".into());
        let before = book.prefs();
        assert_eq!(before.horizon_secs, 3600.0);
        book.played(&a);
        assert!(
            Arc::ptr_eq(&before, &book.prefs()),
            "a play changes no preference"
        );
        book.love(&a, true);
        book.love(&a, true);
        book.love(&a, false);
        book.love(&a, true);
        book.skipped(&a);
        let m = book.get(&a);
        assert_eq!((m.plays, m.skips, m.loves, m.loved), (1, 1, 2, true));
        assert!(book.prefs().loved.contains(&a));
        assert_eq!(book.get(&TrackId("old".into())).plays, 4);

        assert_eq!(book.unban(&a), None, "not banned");
        book.ban(&a, 1000);
        book.ban(&a, 2000);
        assert_eq!(book.banned(), vec![(a.clone(), 1000)]);
        assert!(book.prefs().banned.contains(&a));
        assert!(book.unban(&a).is_some());
        assert!(book.banned().is_empty() && !book.prefs().banned.contains(&a));
        assert_eq!(book.prefs().horizon_secs, 3600.0);
        let w = written.lock().unwrap();
        assert_eq!(w.len(), 9);
        assert_eq!(w.last().unwrap().1, book.get(&a));
    }
}
