//! Journeys: a path through the feature space from one track to a destination track, with even
//! steps that move steadily towards it. Pure: the scheduler calls [`plan_path`] when a journey
//! starts and again when the listener steers during one.
//!
//! The path follows the straight line from the start to the destination: for step k of n it
//! takes the unused track nearest to the point k/n of the way along, among those no further from
//! the destination than the previous step was (plus [`TOLERANCE`] of one even step), looking
//! through the whole library when none of the waypoint's neighbours qualifies. A waypoint with
//! no such track at all is left out (the path gets shorter, never worse); the last step is
//! always the destination itself. So a destination close to the start (in a library too sparse
//! for that many steady steps between them) is reached in fewer tracks than the minutes ask.
use crate::catalog::space::{dist2, FeatureSpace, Point};
use std::collections::HashSet;

/// Steps a journey may have at most (about three hours of typical tracks).
pub const MAX_STEPS: usize = 60;
/// How much further from the destination a step may end than the one before, as a share of
/// the even step length (the straight-line distance divided by the number of steps).
pub const TOLERANCE: f32 = 0.25;
/// Neighbours of each waypoint looked at (beyond the excluded and used tracks).
const CANDIDATES: usize = 24;

/// How many tracks a journey of `minutes` has (the destination included): the minutes divided
/// by a typical track's length (s), at least one, at most [`MAX_STEPS`].
pub fn steps_for(minutes: f64, typical_secs: f64) -> usize {
    if !(minutes.is_finite() && typical_secs.is_finite() && typical_secs > 0.0) {
        return 1;
    }
    ((minutes * 60.0 / typical_secs).round() as usize).clamp(1, MAX_STEPS)
}

/// The catalog indices of a path of at most `steps` tracks from `from` (not included) to `to`
/// (always the last), avoiding `exclude` and never repeating a track. Without features for
/// either end, the path is the destination alone.
pub fn plan_path(
    space: &FeatureSpace,
    from: usize,
    to: usize,
    steps: usize,
    exclude: &HashSet<usize>,
) -> Vec<usize> {
    let (Some(a), Some(b)) = (space.point(from), space.point(to)) else {
        return vec![to];
    };
    let steps = steps.clamp(1, MAX_STEPS);
    let whole = dist2(a, b).sqrt();
    let slack = TOLERANCE * whole / steps as f32;
    let mut used: HashSet<usize> = HashSet::from([from, to]);
    let mut path = Vec::with_capacity(steps);
    let mut last_dist = whole;
    for k in 1..steps {
        let f = k as f32 / steps as f32;
        let target: Point = std::array::from_fn(|d| a[d] + (b[d] - a[d]) * f);
        let fits = |i: usize| !used.contains(&i) && !exclude.contains(&i);
        let wanted = CANDIDATES + exclude.len() + used.len();
        let pick = space
            .nearest(&target, wanted)
            .into_iter()
            .filter(|(i, _)| fits(*i))
            .filter_map(|(i, _)| Some((i, dist2(space.point(i)?, b).sqrt())))
            .find(|(_, to_dest)| *to_dest <= last_dist + slack)
            .or_else(|| {
                // None of the waypoint's neighbours is on the way (a sparse library): the
                // track nearest to the waypoint among all that are.
                space
                    .members()
                    .filter(|(i, _)| fits(*i))
                    .map(|(i, p)| (i, dist2(p, b).sqrt(), dist2(p, &target)))
                    .filter(|(_, to_dest, _)| *to_dest <= last_dist + slack)
                    .min_by(|x, y| x.2.total_cmp(&y.2))
                    .map(|(i, to_dest, _)| (i, to_dest))
            });
        if let Some((i, to_dest)) = pick {
            used.insert(i);
            path.push(i);
            last_dist = to_dest;
        }
    }
    path.push(to);
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::synthetic::synthetic_catalog;
    use crate::catalog::Catalog;

    fn dist(space: &FeatureSpace, i: usize, j: usize) -> f32 {
        dist2(space.point(i).unwrap(), space.point(j).unwrap()).sqrt()
    }

    /// The two tracks of the library furthest apart along the first axis (tempo).
    fn far_ends(cat: &Catalog) -> (usize, usize) {
        let space = cat.space();
        let by_tempo = |i: &usize| space.point(*i).unwrap()[0];
        let all: Vec<usize> = (0..cat.len()).collect();
        let lo = *all
            .iter()
            .min_by(|x, y| by_tempo(x).total_cmp(&by_tempo(y)))
            .unwrap();
        let hi = *all
            .iter()
            .max_by(|x, y| by_tempo(x).total_cmp(&by_tempo(y)))
            .unwrap();
        (lo, hi)
    }

    #[test]
    fn a_path_ends_on_its_destination_moves_steadily_and_evenly() {
        let cat = synthetic_catalog(3000, 11);
        let space = cat.space();
        let (from, to) = far_ends(&cat);
        for steps in [3, 8, 15] {
            let path = plan_path(space, from, to, steps, &HashSet::new());
            assert_eq!(path.last(), Some(&to));
            assert!(path.len() >= steps - 1 && path.len() <= steps, "{path:?}");
            let whole = dist(space, from, to);
            let slack = TOLERANCE * whole / steps as f32;
            let mut prev = from;
            let mut lengths = Vec::new();
            for &i in &path {
                assert!(
                    dist(space, i, to) <= dist(space, prev, to) + slack + 1e-4,
                    "step to {i} moved away from the destination"
                );
                lengths.push(dist(space, prev, i));
                prev = i;
            }
            lengths.sort_by(f32::total_cmp);
            let median = lengths[lengths.len() / 2];
            let max = *lengths.last().unwrap();
            println!("{steps} steps: median {median:.2}, max {max:.2}, whole {whole:.2}");
            assert!(max <= 2.0 * median, "uneven steps: {lengths:?}");
        }
    }

    #[test]
    fn no_track_repeats_and_excluded_tracks_are_avoided() {
        let cat = synthetic_catalog(500, 5);
        let space = cat.space();
        let (from, to) = far_ends(&cat);
        let first = plan_path(space, from, to, 12, &HashSet::new());
        let exclude: HashSet<usize> = first[..first.len() - 1].iter().copied().collect();
        let second = plan_path(space, from, to, 12, &exclude);
        assert_eq!(second.last(), Some(&to));
        let mut seen = HashSet::new();
        for i in &second {
            assert!(seen.insert(*i), "track {i} repeated");
            assert!(*i == to || !exclude.contains(i), "excluded track {i} used");
            assert_ne!(*i, from);
        }
    }

    #[test]
    fn one_step_or_no_features_goes_straight_to_the_destination() {
        let cat = synthetic_catalog(50, 1);
        assert_eq!(plan_path(cat.space(), 0, 7, 1, &HashSet::new()), vec![7]);
        let plain = Catalog::new(
            cat.tracks()[..5]
                .iter()
                .map(|t| {
                    let mut t = (**t).clone();
                    t.analysis.features = None;
                    t
                })
                .collect(),
        );
        assert_eq!(plan_path(plain.space(), 0, 3, 10, &HashSet::new()), vec![3]);
    }

    #[test]
    fn minutes_become_steps() {
        assert_eq!(steps_for(30.0, 180.0), 10);
        assert_eq!(steps_for(1.0, 240.0), 1);
        assert_eq!(steps_for(180.0, 60.0), MAX_STEPS);
        assert_eq!(steps_for(10.0, 0.0), 1);
    }
}
