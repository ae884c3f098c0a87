//! Channel layouts to Drift's stereo: mono is duplicated, more than two channels are folded
//! down (left-side channels to the left, right-side to the right, centre to both at −3 dB, the
//! LFE left out), normalised so a full-scale input cannot clip.
use symphonia::core::audio::Channels;

/// Mixes interleaved audio with `channels` layout down (or up) to interleaved stereo.
pub(super) fn to_stereo(input: &[f32], channels: Channels, out: &mut Vec<f32>) {
    let n = channels.count().max(1);
    match n {
        1 => out.extend(input.iter().flat_map(|&s| [s, s])),
        2 => out.extend_from_slice(input),
        _ => {
            // Weight of each source channel in (left, right); the LFE is left out.
            let weights: Vec<(f32, f32)> = channels.iter().map(side_weights).collect();
            let (sum_l, sum_r) = weights
                .iter()
                .fold((0.0, 0.0), |(a, b), (l, r)| (a + l, b + r));
            let (norm_l, norm_r) = (1.0 / sum_l.max(1.0), 1.0 / sum_r.max(1.0));
            for frame in input.chunks_exact(n) {
                let (mut l, mut r) = (0.0, 0.0);
                for (s, (wl, wr)) in frame.iter().zip(&weights) {
                    l += s * wl;
                    r += s * wr;
                }
                out.push(l * norm_l);
                out.push(r * norm_r);
            }
        }
    }
}

fn side_weights(c: Channels) -> (f32, f32) {
    const HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let left = Channels::FRONT_LEFT
        | Channels::REAR_LEFT
        | Channels::SIDE_LEFT
        | Channels::FRONT_LEFT_CENTRE
        | Channels::REAR_LEFT_CENTRE;
    let right = Channels::FRONT_RIGHT
        | Channels::REAR_RIGHT
        | Channels::SIDE_RIGHT
        | Channels::FRONT_RIGHT_CENTRE
        | Channels::REAR_RIGHT_CENTRE;
    if left.contains(c) {
        (1.0, 0.0)
    } else if right.contains(c) {
        (0.0, 1.0)
    } else if c == Channels::LFE1 {
        (0.0, 0.0)
    } else {
        (HALF, HALF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_is_duplicated_and_surround_folds_down() {
        let mut out = Vec::new();
        to_stereo(&[0.5, -0.5], Channels::FRONT_CENTRE, &mut out);
        assert_eq!(out, vec![0.5, 0.5, -0.5, -0.5]);
        out.clear();
        let five_one = Channels::FRONT_LEFT
            | Channels::FRONT_RIGHT
            | Channels::FRONT_CENTRE
            | Channels::LFE1
            | Channels::REAR_LEFT
            | Channels::REAR_RIGHT;
        to_stereo(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], five_one, &mut out);
        assert!(out[0] > 0.0 && out[1] == 0.0, "{out:?}");
        assert!(out.iter().all(|s| s.abs() <= 1.0));
    }
}
