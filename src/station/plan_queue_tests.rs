//! Tests of planned tracks in the scheduler: an album plays in order then the walk goes on, a
//! journey ends on its destination, a steer replans it, the plan survives a checkpoint, and a
//! banned track is left out of it.
use super::*;
use crate::catalog::synthetic::synthetic_catalog;
use crate::station::directions::Direction;
use crate::station::scheduler::{Scheduler, SchedulerState};

fn run(s: &mut Scheduler, cat: &Catalog, last: &mut Option<TrackId>, n: usize) -> Vec<TrackId> {
    (0..n)
        .map(|_| {
            let id = s.next(cat, last.as_ref()).unwrap();
            *last = Some(id.clone());
            id
        })
        .collect()
}

fn ids(cat: &Catalog, idx: &[usize]) -> Vec<TrackId> {
    idx.iter().map(|&i| cat.tracks()[i].id.clone()).collect()
}

#[test]
fn an_album_plays_in_order_then_the_walk_goes_on_and_a_checkpoint_keeps_it() {
    let cat = synthetic_catalog(200, 3);
    let album = ids(&cat, &[40, 7, 199, 3]);
    let mut s = Scheduler::drift(9);
    let mut last = None;
    run(&mut s, &cat, &mut last, 3);
    assert!(s.plan(Some(Plan::album("a".into(), album.clone()))));
    let first = run(&mut s, &cat, &mut last, 2);
    assert_eq!(first, album[..2]);
    // A checkpoint in the middle of the album resumes it.
    let json = serde_json::to_string(&s.state()).unwrap();
    let mut resumed = Scheduler::from_state(serde_json::from_str(&json).unwrap());
    let mut last2 = last.clone();
    let rest = run(&mut s, &cat, &mut last, 4);
    assert_eq!(rest[..2], album[2..]);
    assert!(!album.contains(&rest[2]) && !album.contains(&rest[3]));
    assert_eq!(run(&mut resumed, &cat, &mut last2, 4), rest);
    assert!(s.planned().unwrap().is_done());
}

#[test]
fn a_banned_album_track_is_left_out() {
    let cat = synthetic_catalog(200, 3);
    let album = ids(&cat, &[40, 7, 199, 3]);
    let mut s = Scheduler::drift(9);
    let mut prefs = crate::catalog::marks::Preferences::default();
    prefs.banned.insert(album[1].clone());
    s.set_prefs(std::sync::Arc::new(prefs));
    let mut last = None;
    run(&mut s, &cat, &mut last, 1);
    s.plan(Some(Plan::album("a".into(), album.clone())));
    let played = run(&mut s, &cat, &mut last, 3);
    assert_eq!(played, [&album[0], &album[2], &album[3]].map(Clone::clone));
    assert!(s.planned().unwrap().is_done());
}

#[test]
fn an_old_checkpoint_without_a_plan_still_loads() {
    let json = r#"{"kind":"drift","seed":1,"picks":0,"heading":[],"recent":[],"steer":null,"queued":null}"#;
    let state: SchedulerState = serde_json::from_str(json).unwrap();
    assert!(Scheduler::from_state(state).planned().is_none());
}

#[test]
fn a_journey_ends_on_its_destination_and_a_steer_replans_the_rest() {
    let cat = synthetic_catalog(800, 4);
    let dest = cat.tracks()[123].id.clone();
    let mut s = Scheduler::drift(2);
    let mut last = None;
    run(&mut s, &cat, &mut last, 2);
    s.plan(Some(Plan::journey(dest.clone(), 30.0)));
    let first = run(&mut s, &cat, &mut last, 3);
    let plan = s.planned().unwrap().clone();
    // 30 min of 3-minute tracks: 10 at most (fewer where no track lies on the way).
    assert!((4..=10).contains(&plan.tracks.len()), "{plan:?}");
    assert_eq!(plan.tracks[..3], first);
    assert_eq!(plan.tracks.last(), Some(&dest));

    // A steer: the next pick is the walk's, then the journey goes on to the same destination
    // with as many tracks as were left.
    assert!(s.steer(Direction::ALL[0]));
    let steered = run(&mut s, &cat, &mut last, 1);
    let replanned = s.planned().unwrap().clone();
    assert_eq!(replanned.tracks[..3], first);
    assert_eq!(replanned.tracks[3], steered[0]);
    assert_eq!(replanned.tracks.last(), Some(&dest));
    assert!(replanned.tracks.len() <= plan.tracks.len());
    let left = replanned.tracks.len() - replanned.picked;
    let rest = run(&mut s, &cat, &mut last, left);
    assert_eq!(rest.last(), Some(&dest));
    let mut all = first.clone();
    all.extend(steered);
    all.extend(rest);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "a track repeated: {all:?}");
}

#[test]
fn a_retracted_pick_is_planned_again_and_a_steer_ends_an_album() {
    let cat = synthetic_catalog(100, 5);
    let album = ids(&cat, &[10, 20, 30]);
    let mut s = Scheduler::drift(1);
    let mut last = None;
    run(&mut s, &cat, &mut last, 1);
    s.plan(Some(Plan::album("x".into(), album.clone())));
    let before = last.clone();
    let p = run(&mut s, &cat, &mut last, 1);
    s.retract(&p[0]);
    assert_eq!(s.next(&cat, before.as_ref()), Some(album[0].clone()));
    s.steer(Direction::ALL[1]);
    assert!(s.planned().is_none());
}

#[test]
fn tracks_left_counts_what_is_not_audible_yet() {
    let t = |s: &str| TrackId(s.into());
    let mut plan = Plan::album("x".into(), vec![t("a"), t("b"), t("c")]);
    plan.picked = 1;
    // "c" plays now (before the album), "a" is the planned next.
    assert_eq!(plan.tracks_left(&[], Some(&t("a"))), 3);
    plan.picked = 2;
    assert_eq!(plan.tracks_left(&[t("b")], Some(&t("z"))), 2);
    assert_eq!(plan.tracks_left(&[], Some(&t("b"))), 2);
    plan.picked = 3;
    assert_eq!(plan.tracks_left(&[], None), 0);
}
