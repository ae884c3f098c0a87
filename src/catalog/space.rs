//! The library as points in a feature space: each analysed track's features, normalised across
//! the library (z-scores, weighted by how much a difference is heard), in a k-d tree so that a
//! pick looks at its neighbourhood instead of scanning every track. Pure; built once per
//! catalog snapshot (see `Catalog::space`).
use crate::catalog::Catalog;
use crate::model::Track;
use crate::model::{Features, Mode};
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use std::num::NonZero;

pub const DIMS: usize = 12;
pub type Point = [f32; DIMS];

/// The axes, in order. Where a feature is heard on a ratio scale (tempo, brightness, density)
/// its logarithm is used, so 60→90 BPM is as far as 120→180.
pub const TEMPO: usize = 0;
pub const BEAT: usize = 1;
pub const BRIGHTNESS: usize = 2;
pub const ROLLOFF: usize = 3;
pub const NOISINESS: usize = 4;
pub const LOUDNESS: usize = 5;
pub const RANGE: usize = 6;
pub const DYNAMICS: usize = 7;
pub const DENSITY: usize = 8;
pub const MODE: usize = 9;
/// Key on the circle of fifths (two axes), so neighbouring keys are near each other.
pub const FIFTHS: [usize; 2] = [10, 11];

/// How much a one-standard-deviation difference on each axis counts in a distance.
const WEIGHTS: Point = [1.5, 0.5, 1.2, 0.5, 0.7, 0.6, 0.3, 0.4, 1.0, 0.8, 0.4, 0.4];

/// Raw values of a track on each axis (before normalisation).
fn raw(track: &Track, f: &Features) -> Point {
    let tonal = f.key_strength.clamp(0.0, 1.0);
    let mode = match f.mode {
        Mode::Major => tonal,
        Mode::Minor => -tonal,
    };
    // Position on the circle of fifths: C=0, G=1, D=2 …
    let fifth = ((f.key as usize * 7) % 12) as f64 * std::f64::consts::TAU / 12.0;
    [
        f.bpm.max(1.0).log2(),
        f.beat_strength,
        f.centroid_hz.max(1.0).ln(),
        f.rolloff_hz.max(1.0).ln(),
        f.flatness,
        track.analysis.loudness.0,
        track.analysis.loudness_range,
        f.crest_db,
        f.onset_rate.max(0.0).ln_1p(),
        mode,
        fifth.cos() * tonal,
        fifth.sin() * tonal,
    ]
    .map(|v| if v.is_finite() { v as f32 } else { 0.0 })
}

pub struct FeatureSpace {
    /// Weighted, normalised point of each catalog track (`None`: not analysed for features).
    points: Vec<Option<Point>>,
    /// Catalog indices of the tracks in the tree, by tree item.
    members: Vec<usize>,
    tree: Option<ImmutableKdTree<f32, DIMS>>,
    /// Smallest and largest weighted value on each axis, so an empty direction is known at once.
    pub lo: Point,
    pub hi: Point,
}

impl FeatureSpace {
    pub fn build(catalog: &Catalog) -> FeatureSpace {
        let raws: Vec<Option<Point>> = catalog
            .tracks()
            .iter()
            .map(|t| t.analysis.features.as_ref().map(|f| raw(t, f)))
            .collect();
        let present: Vec<&Point> = raws.iter().flatten().collect();
        let n = present.len().max(1) as f32;
        let mut mean = [0f32; DIMS];
        let mut std = [0f32; DIMS];
        for p in &present {
            for d in 0..DIMS {
                mean[d] += p[d] / n;
            }
        }
        for p in &present {
            for d in 0..DIMS {
                std[d] += (p[d] - mean[d]).powi(2) / n;
            }
        }
        for (d, s) in std.iter_mut().enumerate() {
            // A constant axis must not blow up; the key circle is already on a unit scale.
            *s = if FIFTHS.contains(&d) {
                1.0
            } else {
                s.sqrt().max(1e-3)
            };
        }
        let points: Vec<Option<Point>> = raws
            .iter()
            .map(|r| {
                r.map(|p| {
                    let mut q = [0f32; DIMS];
                    for d in 0..DIMS {
                        let centred = if FIFTHS.contains(&d) {
                            p[d]
                        } else {
                            p[d] - mean[d]
                        };
                        q[d] = centred / std[d] * WEIGHTS[d];
                    }
                    q
                })
            })
            .collect();
        let members: Vec<usize> = (0..points.len()).filter(|&i| points[i].is_some()).collect();
        let flat: Vec<Point> = members.iter().filter_map(|&i| points[i]).collect();
        let tree = (!flat.is_empty()).then(|| ImmutableKdTree::new_from_slice(&flat));
        let mut lo = [f32::INFINITY; DIMS];
        let mut hi = [f32::NEG_INFINITY; DIMS];
        for p in &flat {
            for d in 0..DIMS {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        FeatureSpace {
            lo,
            hi,
            points,
            members,
            tree,
        }
    }

    /// The point of catalog track `index`, if it has features.
    pub fn point(&self, index: usize) -> Option<&Point> {
        self.points.get(index)?.as_ref()
    }

    /// How many tracks have a point.
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The `k` tracks nearest to `target`: (catalog index, squared distance), nearest first.
    pub fn nearest(&self, target: &Point, k: usize) -> Vec<(usize, f32)> {
        let (Some(tree), Some(k)) = (&self.tree, NonZero::new(k.min(self.members.len()))) else {
            return Vec::new();
        };
        tree.nearest_n::<SquaredEuclidean>(target, k)
            .into_iter()
            .map(|nn| (self.members[nn.item as usize], nn.distance))
            .collect()
    }

    /// Every track with a point (for scans that must see all of them).
    pub fn members(&self) -> impl Iterator<Item = (usize, &Point)> {
        self.members
            .iter()
            .filter_map(|&i| self.points[i].as_ref().map(|p| (i, p)))
    }
}

/// Squared distance between two points.
pub fn dist2(a: &Point, b: &Point) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

#[cfg(test)]
#[path = "space_tests.rs"]
pub(crate) mod tests;
