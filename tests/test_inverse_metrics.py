"""Tests of neuralsynth.inverse.metrics against independent oracles.

Oracles, none of them the code under test:
- gains: a gain g on a sound far above the log floor moves every log-mel band by exactly ln(g**2), every STFT
  magnitude by g, every frame RMS by g (linearity; powers of two are exact in floating point);
- STFT convention: librosa.stft(center=True, pad_mode="constant") and a plain per-frame numpy FFT;
- MFCC: an explicit cosine-matrix DCT-II and the log-mel of a plain numpy STFT;
- pitch: the frequencies the test tones were synthesised at;
- bootstrap: normal theory (standard error 1/sqrt(n)) and the exact binomial distribution of a resampled mean of
  0/1 values (scipy.stats.binom);
- parameter errors: values worked out by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from neuralsynth.errors import AudioError
from neuralsynth.inverse.metrics import (
    METRICS,
    aggregate_metrics,
    audio_metrics,
    bootstrap_ci,
    f0_error_cents,
    log_mel_spectrogram,
    metric_info,
    mfcc_distance,
    multiscale_spectral_distance,
    parameter_errors,
    ratio_ci,
    rms_envelope_cosine,
    spectral_convergence,
    stft_magnitude,
)

SR = 16000  # every mel band of every scale holds FFT bins at 16 kHz (not so at 44.1 kHz with n_fft 256)


def noise(n: int, seed: int = 0, rms: float = 1.0) -> np.ndarray:
    return rms * np.random.default_rng(seed).standard_normal(n)


def saw(freq: float, sr: int, seconds: float, amp: float = 0.3) -> np.ndarray:
    """Band-limited sawtooth: the Fourier series up to Nyquist."""
    t = np.arange(int(round(sr * seconds))) / sr
    y = np.zeros_like(t)
    for k in range(1, int((sr / 2) // freq) + 1):
        y += (-1) ** (k + 1) * np.sin(2 * np.pi * k * freq * t) / k
    return amp * (2 / np.pi) * y


def plain_stft_mag(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Frame by frame: centre i * hop, zeros outside the signal, periodic Hann, |rfft|."""
    win = 0.5 * (1 - np.cos(2 * np.pi * np.arange(n_fft) / n_fft))
    rows = []
    for i in range(1 + x.size // hop):
        seg = np.zeros(n_fft)
        start = i * hop - n_fft // 2
        for j in range(n_fft):
            if 0 <= start + j < x.size:
                seg[j] = x[start + j]
        rows.append(np.abs(np.fft.rfft(seg * win)))
    return np.array(rows)


# --------------------------------------------------------------------------------------------- identities


def test_identical_sounds_score_exactly_perfect():
    x = saw(220.0, SR, 0.5) + 0.01 * noise(SR // 2)
    m = audio_metrics(x, x.copy(), SR)
    assert list(m) == [info.key for info in METRICS]
    assert m == {"mss": 0.0, "spectral_convergence": 0.0, "mfcc": 0.0, "rms_cosine": 1.0, "f0_cents": 0.0}


def test_silence_conventions():
    z = np.zeros(4000)
    x = noise(4000)
    assert spectral_convergence(z, z, SR) == 0.0
    assert spectral_convergence(z, x, SR) == math.inf
    assert spectral_convergence(x, z, SR) == 1.0  # || |S| - 0 || / || |S| ||
    assert rms_envelope_cosine(z, z, SR) == 1.0
    assert rms_envelope_cosine(z, x, SR) == 0.0
    assert rms_envelope_cosine(x, z, SR) == 0.0
    assert multiscale_spectral_distance(z, z, SR) == 0.0
    assert math.isnan(f0_error_cents(z, z, SR))


# --------------------------------------------------------------------------------------------- STFT convention


@pytest.mark.filterwarnings("ignore:n_fft=1024 is too large")  # librosa's note on the 300-sample case
@pytest.mark.parametrize("n_samples", [16000, 16001, 300])
def test_stft_matches_librosa_centred_constant_padding(n_samples):
    import librosa

    x = noise(n_samples, seed=3)
    n_fft = 1024
    ref = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=n_fft // 4, window="hann", center=True,
                              pad_mode="constant")).T
    ours = stft_magnitude(x, n_fft)
    assert ours.shape == ref.shape == (1 + n_samples // 256, 513)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-9 * ref.max())


def test_stft_matches_a_plain_frame_loop():
    x = noise(1000, seed=4)
    ref = plain_stft_mag(x, 256, 64)
    ours = stft_magnitude(x, 256)
    assert ours.shape == ref.shape == (1 + 1000 // 64, 129)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------------------------- MSS


def test_mss_of_a_2x_gain_on_loud_noise_is_ln4():
    # White noise of RMS 1 puts every band of every scale many decades above the 1e-5 floor, so each
    # |log difference| is ln(4 p + 1e-5) - ln(p + 1e-5) = ln 4 - O(1e-5 / p).
    x = noise(SR, seed=5)
    for sizes in [(256,), (4096,), (256, 512, 1024, 2048, 4096)]:
        assert multiscale_spectral_distance(x, 2.0 * x, SR, fft_sizes=sizes) == pytest.approx(math.log(4), abs=1e-4)
    # symmetric, and a 0.5x gain reads the same
    assert multiscale_spectral_distance(2.0 * x, x, SR) == pytest.approx(math.log(4), abs=1e-4)
    assert multiscale_spectral_distance(x, 0.5 * x, SR) == pytest.approx(math.log(4), abs=1e-3)


def test_mss_at_44k_counts_empty_low_bands_as_zero_difference():
    # Documented convention: at 44.1 kHz and n_fft 256, some of the 64 low Slaney bands contain no FFT bin
    # (triangle narrower than the 172 Hz bin spacing); they read ln(1e-5) for any sound and add 0. The count of
    # such bands follows from the mel scale alone: band j spans mel points j .. j + 2 of 66 equally spaced points
    # between mel(20 Hz) and mel(20 kHz) (Slaney: 3 f / 200 below 1 kHz, 15 + 27 ln(f / 1000) / ln 6.4 above), and
    # it is empty when no bin frequency k * 44100 / 256 lies strictly inside.
    def mel(f):
        return 3 * f / 200 if f < 1000 else 15 + 27 * math.log(f / 1000) / math.log(6.4)

    def hz(m):
        return 200 * m / 3 if m < 15 else 1000 * math.exp((m - 15) * math.log(6.4) / 27)

    sr, n_fft, n_mels = 44100, 256, 64
    pts = np.linspace(mel(20.0), mel(20000.0), n_mels + 2)
    edges = [hz(m) for m in pts]
    bins = np.arange(n_fft // 2 + 1) * sr / n_fft
    empty = sum(1 for j in range(n_mels) if not ((bins > edges[j]) & (bins < edges[j + 2])).any())
    assert empty == 6
    x = noise(sr, seed=6, rms=8.0)  # the thinnest populated band holds ~1e-4 of a bin: stay far above the floor
    got = multiscale_spectral_distance(x, 2.0 * x, sr, fft_sizes=(256,))
    assert got == pytest.approx(math.log(4) * (n_mels - empty) / n_mels, abs=1e-4)
    assert multiscale_spectral_distance(x, 2.0 * x, sr, fft_sizes=(512, 4096)) == pytest.approx(math.log(4), abs=1e-4)


def test_mss_is_the_mean_over_scales():
    x = noise(8000, seed=7)
    y = saw(300.0, SR, 0.5)
    per = [multiscale_spectral_distance(x, y, SR, fft_sizes=(n,)) for n in (256, 1024, 4096)]
    assert multiscale_spectral_distance(x, y, SR, fft_sizes=(256, 1024, 4096)) == pytest.approx(np.mean(per),
                                                                                                  rel=1e-12)
    assert min(per) > 0.5  # noise against a saw is far apart


def test_log_mel_floor_and_level():
    z = np.zeros(2048)
    lm = log_mel_spectrogram(z, SR)
    assert lm.shape == (1 + 2048 // 512, 128)
    assert np.all(lm == np.log(1e-5))


# --------------------------------------------------------------------------------------------- SC, MFCC, RMS


def test_spectral_convergence_of_half_gain_is_one_half():
    x = saw(440.0, SR, 0.3) + 0.1 * noise(int(0.3 * SR))
    assert spectral_convergence(x, 0.5 * x, SR) == pytest.approx(0.5, abs=1e-14)
    assert spectral_convergence(x, 3.0 * x, SR) == pytest.approx(2.0, abs=1e-12)
    assert spectral_convergence(x, -x, SR) == 0.0  # magnitudes only


def test_mfcc_distance_against_explicit_dct_of_plain_stft():
    x = noise(4000, seed=8)
    y = saw(500.0, SR, 4000 / SR)
    import librosa

    fb = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128, fmin=20.0, fmax=8000.0, dtype=np.float64)
    k = np.arange(20)[:, None]
    m = np.arange(128)[None, :]
    dct = np.sqrt(2 / 128) * np.cos(np.pi * k * (2 * m + 1) / 256)
    dct[0] /= np.sqrt(2)

    def mfcc(s):
        power = plain_stft_mag(s, 2048, 512) ** 2
        return np.log(power @ fb.T + 1e-5) @ dct.T

    expected = np.mean(np.linalg.norm(mfcc(x) - mfcc(y), axis=1))
    assert mfcc_distance(x, y, SR) == pytest.approx(expected, rel=1e-9)
    # coefficient 0 is included: a 2x gain on loud noise reads sqrt(128) * ln 4 (all in c0)
    assert mfcc_distance(x, 2.0 * x, SR) == pytest.approx(math.sqrt(128) * math.log(4), rel=1e-4)
    assert mfcc_distance(x, 2.0 * x, SR, n_mfcc=1) == pytest.approx(math.sqrt(128) * math.log(4), rel=1e-4)


def test_rms_cosine_gain_invariance_and_disjoint_bursts():
    x = saw(330.0, SR, 0.5) * np.linspace(0, 1, SR // 2)
    assert rms_envelope_cosine(x, 2.0 * x, SR) == 1.0
    assert rms_envelope_cosine(x, x, SR) == 1.0
    a = np.zeros(SR)
    b = np.zeros(SR)
    a[:4000] = noise(4000, seed=9)
    b[10000:14000] = noise(4000, seed=10)  # gap of 6000 samples > frame of 1024
    assert rms_envelope_cosine(a, b, SR) == 0.0
    # half overlap of equal constant envelopes: hand-computable cosine of two box envelopes
    c = np.zeros(SR)
    d = np.zeros(SR)
    c[:8192] = 1.0
    d[4096:12288] = 1.0
    got = rms_envelope_cosine(c, d, SR)
    # frames (centre i * 256, 1024 wide): RMS^2 = fraction of the frame inside the box, 1/2 at its edges ...
    centres = np.arange(1 + SR // 256) * 256

    def env(lo, hi):
        covered = np.clip(np.minimum(centres + 512, hi) - np.maximum(centres - 512, lo), 0, None)
        return np.sqrt(covered / 1024)

    e1, e2 = env(0, 8192), env(4096, 12288)
    assert got == pytest.approx(e1 @ e2 / np.linalg.norm(e1) / np.linalg.norm(e2), rel=1e-12)


# --------------------------------------------------------------------------------------------- f0


@pytest.mark.parametrize("sr", [44100, 16000])
def test_f0_error_of_a_50_cent_detune_is_50_cents(sr):
    a = saw(440.0, sr, 0.6)
    b = saw(440.0 * 2 ** (50 / 1200), sr, 0.6)
    assert f0_error_cents(a, b, sr) == pytest.approx(50.0, abs=2.0)
    assert f0_error_cents(b, a, sr) == pytest.approx(50.0, abs=2.0)
    assert f0_error_cents(a, saw(880.0, sr, 0.6), sr) == pytest.approx(1200.0, abs=2.0)  # no octave folding


def test_f0_is_nan_when_nothing_is_voiced_in_both():
    a = saw(440.0, SR, 0.5)
    assert math.isnan(f0_error_cents(a, noise(a.size, seed=11), SR))
    assert math.isnan(f0_error_cents(a, np.zeros_like(a), SR))


# --------------------------------------------------------------------------------------------- conventions


def test_channels_are_averaged_and_lengths_cut_to_the_shorter():
    x = noise(6000, seed=12)
    d = noise(6000, seed=13)
    y = saw(250.0, SR, 6000 / SR)
    stereo = np.stack([x + d, x - d])
    ref = audio_metrics(x, y, SR)
    got = audio_metrics(stereo, y, SR)
    for key in ref:
        assert got[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12, nan_ok=True), key
    longer = np.concatenate([y, noise(3000, seed=14)])
    got = audio_metrics(x, longer, SR)
    assert got.keys() == ref.keys()
    assert all(got[k] == ref[k] or (math.isnan(got[k]) and math.isnan(ref[k])) for k in ref)
    y_stereo = np.stack([y, y])  # and a pitched pair, so that f0 is a number
    assert audio_metrics(y_stereo, longer, SR)["f0_cents"] == 0.0


def test_bad_audio_is_rejected_with_a_clear_message():
    x = noise(1000)
    bad = x.copy()
    bad[[5, 7]] = np.nan
    with pytest.raises(AudioError, match=r"estimate contains non-finite samples \(2 NaN, 0 Inf\), the first at .* 5"):
        multiscale_spectral_distance(x, bad, SR)
    with pytest.raises(AudioError, match="target is empty"):
        spectral_convergence(np.zeros(0), x, SR)
    with pytest.raises(AudioError, match=r"target must be 1-D .* got shape \(2, 3, 4\)"):
        mfcc_distance(np.zeros((2, 3, 4)), x, SR)
    with pytest.raises(AudioError, match=r"looks like \(n, channels\)"):
        rms_envelope_cosine(x, np.zeros((1000, 2)), SR)
    with pytest.raises(AudioError, match="floating point"):
        audio_metrics(x, (x * 1000).astype(np.int16), SR)
    with pytest.raises(AudioError, match="sample_rate"):
        audio_metrics(x, x, 22050.5)
    with pytest.raises(AudioError, match="outside the supported"):
        audio_metrics(x, x, 100)
    with pytest.raises(ValueError, match="fft size"):
        multiscale_spectral_distance(x, x, SR, fft_sizes=(250,))


def test_metrics_table():
    assert [m.key for m in METRICS] == ["mss", "spectral_convergence", "mfcc", "rms_cosine", "f0_cents"]
    assert {m.direction for m in METRICS} == {"lower is better", "higher is better"}
    assert [m.key for m in METRICS if m.higher_is_better] == ["rms_cosine"]
    assert metric_info("f0_cents").unit == "cents"
    with pytest.raises(KeyError, match="known: mss"):
        metric_info("nope")


# --------------------------------------------------------------------------------------------- bootstrap


def test_bootstrap_degenerate_cases():
    assert bootstrap_ci(np.full(37, 0.1)) == (0.1, 0.1, 0.1)
    assert bootstrap_ci([2.5]) == (2.5, 2.5, 2.5)
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    assert all(math.isnan(v) for v in bootstrap_ci([math.nan, math.nan]))
    assert bootstrap_ci([math.nan, 4.0, math.nan]) == (4.0, 4.0, 4.0)
    assert bootstrap_ci([1.0, 2.0, 3.0], seed=5) == bootstrap_ci([1.0, 2.0, 3.0], seed=5)  # deterministic


def test_bootstrap_with_an_infinite_item_has_no_nan_bound():
    v = np.ones(50)
    v[3] = math.inf  # in about 1 - (49/50)**50 = 64 % of the resamples
    mean, lo, hi = bootstrap_ci(v)
    assert (mean, lo, hi) == (math.inf, 1.0, math.inf)
    ratio, lo, hi = ratio_ci(2.0 * np.ones(50), v)
    assert (ratio, lo, hi) == (0.0, 0.0, 2.0)


def test_bootstrap_covers_the_mean_of_a_normal_sample_with_the_normal_theory_width():
    # A normal sample standardised to mean 3 and sd 1 exactly: the interval must hold 3 about symmetrically, with
    # the normal-theory width 2 * 1.96 / sqrt(n). (Coverage over many samples: the next test.)
    n = 2000
    z = np.random.default_rng(42).standard_normal(n)
    v = 3.0 + (z - z.mean()) / z.std()
    mean, lo, hi = bootstrap_ci(v)
    assert mean == pytest.approx(3.0, abs=1e-12)
    assert 3.0 - lo == pytest.approx(hi - 3.0, rel=0.15)
    assert hi - lo == pytest.approx(2 * 1.959964 / math.sqrt(n), rel=0.1)
    m90, lo90, hi90 = bootstrap_ci(v, level=0.90)
    assert lo < lo90 < mean < hi90 < hi


def test_bootstrap_interval_has_its_nominal_coverage():
    # 300 independent normal samples of 60: a 90 % interval must cover the true mean ~270 times (binomial sd 5;
    # the percentile bootstrap under-covers slightly at small n, so accept 255..285).
    rng = np.random.default_rng(123)
    hits = 0
    for _ in range(300):
        _, lo, hi = bootstrap_ci(rng.standard_normal(60), level=0.90, n_boot=400, seed=int(rng.integers(1 << 30)))
        hits += lo < 0.0 < hi
    assert 255 <= hits <= 285


def test_bootstrap_of_binary_values_matches_the_binomial_quantiles():
    # A resampled mean of n 0/1 values with k ones is Binomial(n, k/n) / n.
    n, k = 50, 20
    v = np.array([1.0] * k + [0.0] * (n - k))
    _, lo, hi = bootstrap_ci(v, n_boot=4000)
    assert lo == pytest.approx(scipy.stats.binom.ppf(0.025, n, k / n) / n, abs=1.01 / n)
    assert hi == pytest.approx(scipy.stats.binom.ppf(0.975, n, k / n) / n, abs=1.01 / n)


def test_ratio_ci_of_paired_double_is_exactly_two():
    x = np.random.default_rng(1).uniform(0.1, 10.0, 200)
    assert ratio_ci(2.0 * x, x) == (2.0, 2.0, 2.0)


def test_ratio_ci_resamples_the_pairs_jointly():
    # Items vary 100x in difficulty; the method is consistently 1.5x better. Joint resampling cancels the item
    # variation (narrow interval around 1.5), independent resampling would not (interval tens of % wide).
    rng = np.random.default_rng(2)
    difficulty = np.exp(rng.uniform(0, math.log(100), 300))
    method = difficulty * (1 + 0.01 * rng.standard_normal(300))
    baseline = 1.5 * difficulty * (1 + 0.01 * rng.standard_normal(300))
    ratio, lo, hi = ratio_ci(baseline, method)
    assert ratio == pytest.approx(baseline.mean() / method.mean(), rel=1e-12)
    assert lo < 1.5 < hi
    assert hi - lo < 0.01
    # NaN items are dropped from both
    b = np.append(baseline, math.nan)
    m = np.append(method, 1.0)
    assert ratio_ci(b, m) == (ratio, lo, hi)
    with pytest.raises(ValueError, match="paired"):
        ratio_ci(baseline, method[:-1])


def test_aggregate_metrics_counts_skipped_nan():
    items = [dict(mss=1.0, f0_cents=10.0), dict(mss=3.0, f0_cents=math.nan), dict(mss=2.0, f0_cents=20.0)]
    cis, skipped = aggregate_metrics(items)
    assert list(cis) == ["mss", "f0_cents"]
    assert cis["mss"][0] == 2.0
    assert cis["f0_cents"][0] == 15.0
    assert skipped == {"f0_cents": 1}


# --------------------------------------------------------------------------------------------- parameters


def test_parameter_errors_match_hand_computed_values():
    true = np.array([
        [0.1, 0.00, 0.125],
        [0.5, 0.25, 0.0],
        [0.9, 0.50, 1.0],
        [0.3, 1.00, 0.4],
        [0.7, 0.74, 0.6],
    ])
    pred = np.array([
        [0.2, 0.10, 0.126],
        [0.5, 0.40, 0.0],
        [0.6, 0.50, 1.0],
        [0.3, 0.80, 0.4],
        [0.7, 0.60, 0.6],
    ])
    kinds = [("continuous", None), ("discrete", 5), ("discrete", 5)]
    res = parameter_errors(true, pred, kinds)
    assert [r["index"] for r in res] == [0, 1, 2]
    assert [(r["kind"], r["metric"]) for r in res] == [
        ("continuous", "mae"), ("discrete", "accuracy"), ("discrete", "accuracy")]
    # column 0: |errors| 0.1, 0, 0.3, 0, 0 -> MAE 0.08
    assert res[0]["value"] == pytest.approx(0.08, abs=1e-12)
    # column 1, classes round(4 v): true 0, 1, 2, 4, 3 (2.96); pred 0 (0.4), 2 (1.6), 2, 3 (3.2), 2 (2.4) -> 2/5
    assert res[1]["value"] == pytest.approx(0.4, abs=1e-15)
    # column 2: 0.125 * 4 = 0.5 rounds half up to class 1; 0.126 -> 0.504 -> 1 as well; the rest equal -> 5/5
    assert res[2]["value"] == 1.0
    assert (res[2]["lo"], res[2]["hi"]) == (1.0, 1.0)
    for r in res[:2]:
        assert r["lo"] <= r["value"] <= r["hi"]
        assert r["lo"] < r["hi"]
    # halves round up, not to even: 0.625 * 4 = 2.5 -> class 3 (numpy.round: 2), 0.74 * 4 = 2.96 -> 3
    res = parameter_errors(np.array([[0.625]]), np.array([[0.74]]), [("discrete", 5)])
    assert res[0]["value"] == 1.0
    # values slightly outside 0..1 are clipped onto the end classes
    res = parameter_errors(np.array([[0.0], [1.0]]), np.array([[-0.2], [1.3]]), [("discrete", 3)])
    assert res[0]["value"] == 1.0


def test_parameter_errors_bad_input():
    a = np.zeros((4, 2))
    with pytest.raises(ValueError, match="kinds has 1 entries but the arrays have 2"):
        parameter_errors(a, a, [("continuous", None)])
    with pytest.raises(ValueError, match="steps >= 2"):
        parameter_errors(a, a, [("continuous", None), ("discrete", 1)])
    with pytest.raises(ValueError, match="'continuous' or 'discrete'"):
        parameter_errors(a, a, [("continuous", None), ("categorical", 3)])
    with pytest.raises(ValueError, match="same shape"):
        parameter_errors(a, np.zeros((4, 3)), [("continuous", None)] * 2)
    b = a.copy()
    b[2, 1] = np.nan
    with pytest.raises(ValueError, match="pred holds 1 non-finite value.*item 2, parameter 1"):
        parameter_errors(a, b, [("continuous", None)] * 2)
