//! Steering directions: from the current track, which ways the music can go in this library
//! (faster, darker, …) and the tracks that lie that way — different on one axis, close on the
//! others. A direction is offered only when it has candidates.
use crate::catalog::space::{
    dist2, FeatureSpace, Point, BRIGHTNESS, DENSITY, LOUDNESS, MODE, NOISINESS, TEMPO,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Faster,
    Slower,
    Brighter,
    Darker,
    Denser,
    Sparser,
    Louder,
    Quieter,
    Major,
    Minor,
    Rougher,
    Smoother,
}

/// How far along its axis a steered pick aims (weighted standard deviations).
pub const STEP: f32 = 1.0;
/// A candidate must move at least this far along the axis to count as going that way.
const MIN_MOVE: f32 = 0.3;
/// Neighbours the index is asked for before falling back to a scan.
const PROBE: usize = 64;

impl Direction {
    pub const ALL: [Direction; 12] = [
        Direction::Faster,
        Direction::Slower,
        Direction::Brighter,
        Direction::Darker,
        Direction::Denser,
        Direction::Sparser,
        Direction::Louder,
        Direction::Quieter,
        Direction::Major,
        Direction::Minor,
        Direction::Rougher,
        Direction::Smoother,
    ];

    /// The axis it moves along and which way.
    pub fn axis(self) -> (usize, f32) {
        use Direction::*;
        match self {
            Faster => (TEMPO, 1.0),
            Slower => (TEMPO, -1.0),
            Brighter => (BRIGHTNESS, 1.0),
            Darker => (BRIGHTNESS, -1.0),
            Denser => (DENSITY, 1.0),
            Sparser => (DENSITY, -1.0),
            Louder => (LOUDNESS, 1.0),
            Quieter => (LOUDNESS, -1.0),
            Major => (MODE, 1.0),
            Minor => (MODE, -1.0),
            Rougher => (NOISINESS, 1.0),
            Smoother => (NOISINESS, -1.0),
        }
    }

    pub fn name(self) -> &'static str {
        use Direction::*;
        match self {
            Faster => "faster",
            Slower => "slower",
            Brighter => "brighter",
            Darker => "darker",
            Denser => "denser",
            Sparser => "sparser",
            Louder => "louder",
            Quieter => "quieter",
            Major => "major",
            Minor => "minor",
            Rougher => "rougher",
            Smoother => "smoother",
        }
    }

    pub fn description(self) -> &'static str {
        use Direction::*;
        match self {
            Faster => "a higher tempo",
            Slower => "a lower tempo",
            Brighter => "more treble, a brighter sound",
            Darker => "less treble, a darker sound",
            Denser => "more notes and hits per second",
            Sparser => "fewer notes, more space",
            Louder => "more loudly mastered music",
            Quieter => "more quietly mastered music",
            Major => "a major key, a lighter mood",
            Minor => "a minor key, a moodier feel",
            Rougher => "noisier, grittier textures",
            Smoother => "purer, more tonal textures",
        }
    }

    pub fn parse(name: &str) -> Option<Direction> {
        Direction::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(name.trim()))
    }

    /// A unit step along this direction, in the space's weighted units.
    pub fn vector(self) -> Point {
        let (axis, sign) = self.axis();
        let mut v = [0f32; crate::catalog::space::DIMS];
        v[axis] = sign * STEP;
        v
    }
}

/// Tracks that lie in `dir` from the track at catalog index `from`, best first: far enough
/// along the axis, as close as possible on the others. `exclude` holds catalog indices.
pub fn candidates(
    space: &FeatureSpace,
    from: usize,
    dir: Direction,
    exclude: &HashSet<usize>,
    n: usize,
) -> Vec<usize> {
    candidates_where(space, from, dir, |i| exclude.contains(&i), exclude.len(), n)
}

/// [`candidates`] with the excluded tracks given by a test instead of a set (the drift's
/// variety rules, which would otherwise be evaluated for the whole library), and about how
/// many tracks it excludes (to size the neighbourhood searched).
pub fn candidates_where(
    space: &FeatureSpace,
    from: usize,
    dir: Direction,
    excluded: impl Fn(usize) -> bool,
    about_excluded: usize,
    n: usize,
) -> Vec<usize> {
    let Some(origin) = space.point(from) else {
        return Vec::new();
    };
    let (axis, sign) = dir.axis();
    let reach = if sign > 0.0 {
        space.hi[axis] - origin[axis]
    } else {
        origin[axis] - space.lo[axis]
    };
    if reach < MIN_MOVE {
        return Vec::new(); // nothing in the library lies that far that way
    }
    let mut target = *origin;
    target[axis] += sign * STEP;
    let score = |p: &Point| {
        let moved = (p[axis] - origin[axis]) * sign;
        let mut others = dist2(p, origin) - (p[axis] - origin[axis]).powi(2);
        others += 0.25 * (moved - STEP).powi(2);
        (moved, others)
    };
    let eligible = |i: usize, p: &Point| i != from && !excluded(i) && score(p).0 >= MIN_MOVE;
    let mut found: Vec<(usize, f32)> = space
        .nearest(&target, PROBE + about_excluded)
        .into_iter()
        .filter_map(|(i, _)| space.point(i).map(|p| (i, p)))
        .filter(|(i, p)| eligible(*i, p))
        .map(|(i, p)| (i, score(p).1))
        .collect();
    if found.len() < n {
        // The neighbourhood of the target had too few: look at every track (rare, and only
        // when the library is sparse in that direction).
        found = space
            .members()
            .filter(|(i, p)| eligible(*i, p))
            .map(|(i, p)| (i, score(p).1))
            .collect();
    }
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    found.truncate(n);
    found.into_iter().map(|(i, _)| i).collect()
}
