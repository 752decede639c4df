"""A procedural, GTZAN-shaped music corpus: 30-s clips for the ten GTZAN genres, each
built from its genre's groove, harmony and instruments, so every pipeline runs (and is
tested) without the real audio.

Every clip is drawn from a ``numpy.random.Generator``; :func:`generate_corpus` seeds one
per clip from ``(seed, genre, index)``, so the corpus is identical for a seed whatever
subset or order is generated. Genres share instruments and grooves on purpose (rock,
metal, country and blues; pop and disco; hiphop and reggae), each clip has a random
"recording" (EQ, noise floor, reverb), and a clip sometimes borrows a part from a
neighbouring genre, so the genres can be learned but are not trivially separable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop",
    "jazz", "metal", "pop", "reggae", "rock",
)
SAMPLE_RATE = 22050

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Chord qualities as semitones above the chord root.
MAJ, MIN = (0, 4, 7), (0, 3, 7)
DOM7, MIN7, MAJ7 = (0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11)
DOM9, MIN9, MAJ9 = (0, 4, 7, 10, 14), (0, 3, 7, 10, 14), (0, 4, 7, 11, 14)
POWER = (0, 7, 12)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
BLUES_SCALE = (0, 3, 5, 6, 7, 10)

# Neighbouring genres a clip may borrow a drum groove or a part from (real genres overlap).
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "blues": ("rock", "jazz", "country"),
    "classical": ("jazz",),
    "country": ("rock", "blues", "pop"),
    "disco": ("pop", "hiphop"),
    "hiphop": ("reggae", "disco", "pop"),
    "jazz": ("blues", "classical"),
    "metal": ("rock",),
    "pop": ("disco", "rock", "country"),
    "reggae": ("hiphop", "pop"),
    "rock": ("metal", "blues", "country", "pop"),
}


@dataclass(frozen=True)
class GenreStyle:
    """The musical signature of a genre: what a clip of it is built from."""

    tempo: tuple[float, float]
    mode: str                      # "major", "minor" or "either"
    progressions: tuple[tuple[tuple[int, tuple[int, ...]], ...], ...]
    bars_per_chord: tuple[int, ...]
    groove: str                    # key into DRUM_PATTERNS, or "none"
    steps_per_beat: int            # 4: straight 16ths, 3: triplet (swing/shuffle)
    parts: tuple[tuple[str, str, float], ...]   # (role, instrument, level dB)
    humanize_ms: float = 6.0
    rubato: float = 0.0            # relative tempo wander (classical)
    dynamics_db: float = 2.0       # depth of the slow loudness curve
    reverb: tuple[float, float] = (0.05, 0.2)
    drum_level_db: float = 0.0
    bass_octave: int = 2
    comp_octave: int = 4
    drop_prob: float = 0.05        # chance each drum hit is left out
    optional_parts: tuple[tuple[str, str, float], ...] = field(default=())


I, IV, V = 0, 5, 7
STYLES: dict[str, GenreStyle] = {
    "blues": GenreStyle(
        tempo=(66, 112), mode="major",
        progressions=(((I, DOM7),) * 4 + ((IV, DOM7),) * 2 + ((I, DOM7),) * 2
                      + ((V, DOM7), (IV, DOM7), (I, DOM7), (V, DOM7)),
                      ((I, DOM7), (IV, DOM7), (I, DOM7), (I, DOM7), (IV, DOM7), (IV, DOM7),
                       (I, DOM7), (I, DOM7), (V, DOM7), (IV, DOM7), (I, DOM7), (V, DOM7))),
        bars_per_chord=(1,), groove="shuffle", steps_per_beat=3,
        parts=(("bass_shuffle", "bass", -4.0), ("comp_shuffle", "overdrive", -8.0),
               ("lead_blues", "overdrive_lead", -7.0)),
        optional_parts=(("comp_sustain", "organ", -12.0), ("comp_steps", "piano", -10.0)),
        humanize_ms=10.0, reverb=(0.1, 0.3), drum_level_db=-3.0, drop_prob=0.08,
    ),
    "classical": GenreStyle(
        tempo=(56, 100), mode="either",
        progressions=(((I, MAJ), (IV, MAJ), (V, DOM7), (I, MAJ)),
                      ((I, MAJ), (9, MIN), (2, MIN), (V, DOM7)),
                      ((I, MAJ), (V, MAJ), (9, MIN), (4, MIN), (IV, MAJ), (I, MAJ), (IV, MAJ), (V, DOM7))),
        bars_per_chord=(1, 2), groove="none", steps_per_beat=4,
        parts=(("comp_sustain", "strings", -6.0), ("bass_sustain", "cello", -8.0),
               ("melody_slow", "violin", -6.0)),
        optional_parts=(("arpeggio", "piano", -6.0), ("melody_slow", "flute", -10.0)),
        humanize_ms=20.0, rubato=0.12, dynamics_db=9.0, reverb=(0.25, 0.5), bass_octave=3,
    ),
    "country": GenreStyle(
        tempo=(88, 140), mode="major",
        progressions=(((I, MAJ), (IV, MAJ), (V, MAJ), (I, MAJ)),
                      ((I, MAJ), (I, MAJ), (IV, MAJ), (V, DOM7)),
                      ((I, MAJ), (V, MAJ), (IV, MAJ), (I, MAJ))),
        bars_per_chord=(1, 2), groove="train", steps_per_beat=4,
        parts=(("bass_rootfifth", "bass", -4.0), ("arpeggio", "pluck", -6.0),
               ("comp_strum", "pluck", -9.0), ("melody", "fiddle", -9.0)),
        optional_parts=(("comp_sustain", "organ", -16.0), ("melody", "vocal", -8.0)),
        humanize_ms=7.0, reverb=(0.08, 0.2), drum_level_db=-4.0,
    ),
    "disco": GenreStyle(
        tempo=(108, 132), mode="minor",
        progressions=(((I, MIN7), (IV, MIN7)), ((I, MIN7), (10, DOM7)),
                      ((I, MIN9), (3, MAJ7), (8, MAJ7), (10, DOM7))),
        bars_per_chord=(1, 2), groove="four_on_floor", steps_per_beat=4,
        parts=(("bass_octave", "synth_bass", -3.0), ("comp_stabs", "pad", -9.0),
               ("comp_sustain", "strings", -12.0), ("melody", "vocal", -9.0)),
        optional_parts=(("comp_funk", "clean_guitar", -11.0),),
        humanize_ms=3.0, reverb=(0.08, 0.2), drum_level_db=1.0, drop_prob=0.02,
    ),
    "hiphop": GenreStyle(
        tempo=(78, 100), mode="minor",
        progressions=(((I, MIN7), (8, MAJ7)), ((I, MIN9), (IV, MIN7)), ((I, MIN7),)),
        bars_per_chord=(1, 2), groove="boom_bap", steps_per_beat=4,
        parts=(("bass_808", "sub_bass", -1.0), ("comp_sustain", "epiano", -10.0),
               ("rap", "vocal_rap", -6.0)),
        optional_parts=(("comp_stabs", "pad", -14.0), ("comp_skank", "clean_guitar", -14.0)),
        humanize_ms=8.0, reverb=(0.03, 0.12), drum_level_db=2.0, drop_prob=0.03,
    ),
    "jazz": GenreStyle(
        tempo=(96, 200), mode="major",
        progressions=(((2, MIN9), (V, DOM9), (I, MAJ9), (I, MAJ9)),
                      ((2, MIN7), (V, DOM9), (I, MAJ7), (9, DOM7)),
                      ((4, MIN7), (9, DOM7), (2, MIN9), (V, DOM9))),
        bars_per_chord=(1,), groove="swing", steps_per_beat=3,
        parts=(("bass_walk", "upright_bass", -3.0), ("comp_jazz", "piano", -8.0),
               ("melody", "sax", -8.0)),
        optional_parts=(("comp_sustain", "epiano", -14.0),),
        humanize_ms=12.0, dynamics_db=4.0, reverb=(0.12, 0.3), drum_level_db=-6.0, drop_prob=0.15,
    ),
    "metal": GenreStyle(
        tempo=(130, 200), mode="minor",
        progressions=(((I, POWER), (8, POWER), (10, POWER), (I, POWER)),
                      ((I, POWER), (1, POWER), (I, POWER), (10, POWER)),
                      ((I, POWER), (I, POWER), (5, POWER), (3, POWER))),
        bars_per_chord=(1,), groove="metal", steps_per_beat=4,
        parts=(("chug", "distortion", -2.0), ("bass_chug", "bass", -6.0),
               ("lead_metal", "distortion_lead", -10.0)),
        optional_parts=(("comp_sustain", "pad", -16.0),),
        humanize_ms=3.0, reverb=(0.05, 0.15), drum_level_db=0.0, bass_octave=1, comp_octave=2,
        drop_prob=0.02,
    ),
    "pop": GenreStyle(
        tempo=(90, 128), mode="major",
        progressions=(((I, MAJ), (V, MAJ), (9, MIN), (IV, MAJ)),
                      ((9, MIN), (IV, MAJ), (I, MAJ), (V, MAJ)),
                      ((I, MAJ), (9, MIN), (IV, MAJ), (V, MAJ))),
        bars_per_chord=(1,), groove="backbeat_pop", steps_per_beat=4,
        parts=(("bass_eighths", "synth_bass", -5.0), ("comp_sustain", "pad", -9.0),
               ("comp_steps", "piano", -10.0), ("melody", "vocal", -5.0)),
        optional_parts=(("comp_strum", "clean_guitar", -11.0), ("arpeggio", "pluck", -13.0)),
        humanize_ms=4.0, reverb=(0.1, 0.25), drum_level_db=-1.0, drop_prob=0.03,
    ),
    "reggae": GenreStyle(
        tempo=(66, 94), mode="either",
        progressions=(((I, MAJ), (IV, MAJ)), ((I, MIN), (IV, MIN)), ((I, MAJ), (V, MAJ)),
                      ((I, MAJ), (IV, MAJ), (V, MAJ), (IV, MAJ))),
        bars_per_chord=(1, 2), groove="one_drop", steps_per_beat=4,
        parts=(("bass_reggae", "sub_bass", -2.0), ("comp_skank", "clean_guitar", -7.0),
               ("comp_bubble", "organ", -12.0), ("melody", "vocal", -7.0)),
        optional_parts=(("comp_sustain", "pad", -16.0),),
        humanize_ms=6.0, reverb=(0.1, 0.3), drum_level_db=-2.0,
    ),
    "rock": GenreStyle(
        tempo=(96, 152), mode="major",
        progressions=(((I, POWER), (10, POWER), (IV, POWER), (I, POWER)),
                      ((I, POWER), (IV, POWER), (V, POWER), (IV, POWER)),
                      ((9, POWER), (IV, POWER), (I, POWER), (V, POWER))),
        bars_per_chord=(1, 2), groove="backbeat_rock", steps_per_beat=4,
        parts=(("bass_eighths", "bass", -4.0), ("comp_eighths", "overdrive", -5.0),
               ("melody", "vocal", -6.0)),
        optional_parts=(("lead_blues", "overdrive_lead", -10.0), ("comp_sustain", "organ", -15.0)),
        humanize_ms=5.0, reverb=(0.06, 0.18), drum_level_db=0.0, comp_octave=3,
    ),
}

# Drum patterns per bar: instrument -> (step, velocity). 16 steps = straight 16ths in 4/4,
# 12 steps = triplet 8ths (shuffle and swing).
_E8 = tuple((s, 0.7 if s % 4 else 0.9) for s in range(0, 16, 2))
DRUM_PATTERNS: dict[str, dict[str, tuple[tuple[int, float], ...]]] = {
    "four_on_floor": {"kick": ((0, 1.0), (4, 1.0), (8, 1.0), (12, 1.0)),
                      "clap": ((4, 0.9), (12, 0.9)),
                      "open_hat": ((2, 0.7), (6, 0.7), (10, 0.7), (14, 0.7)),
                      "hat": tuple((s, 0.4) for s in range(16) if s % 4 in (1, 3))},
    "backbeat_pop": {"kick": ((0, 1.0), (7, 0.6), (8, 0.9)), "clap": ((4, 0.9), (12, 0.9)),
                     "snare": ((4, 0.6), (12, 0.6)), "hat": _E8},
    "backbeat_rock": {"kick": ((0, 1.0), (8, 0.9), (10, 0.8)), "snare": ((4, 1.0), (12, 1.0)),
                      "ride": _E8, "crash": ((0, 0.5),)},
    "metal": {"kick": tuple((s, 0.9) for s in range(16)), "snare": ((4, 1.0), (12, 1.0)),
              "crash": ((0, 0.8), (8, 0.6)), "ride": tuple((s, 0.7) for s in range(0, 16, 2))},
    "boom_bap": {"kick": ((0, 1.0), (7, 0.7), (10, 0.9)), "snare": ((4, 1.0), (12, 1.0)),
                 "hat": tuple((s, 0.55 if s % 4 else 0.7) for s in range(0, 16, 2))},
    "one_drop": {"kick": ((8, 1.0),), "rim": ((8, 0.9),),
                 "hat": tuple((s, 0.5) for s in range(0, 16, 2)) + ((14, 0.35), (15, 0.3))},
    "train": {"kick": ((0, 0.9), (8, 0.9)), "snare": ((4, 0.8), (12, 0.8)),
              "brush": tuple((s, 0.5 if s % 2 else 0.35) for s in range(16))},
    "shuffle": {"kick": ((0, 0.9), (6, 0.8)), "snare": ((3, 0.9), (9, 0.9)),
                "hat": ((0, 0.6), (2, 0.4), (3, 0.6), (5, 0.4), (6, 0.6), (8, 0.4), (9, 0.6), (11, 0.4))},
    "swing": {"ride": ((0, 0.6), (3, 0.7), (5, 0.45), (6, 0.6), (9, 0.7), (11, 0.45)),
              "hat": ((3, 0.35), (9, 0.35)), "kick": ((0, 0.25), (6, 0.2)),
              "brush": ((3, 0.3), (9, 0.3), (11, 0.2))},
}
GROOVE_NAMES = {
    "four_on_floor": "four-on-the-floor", "backbeat_pop": "backbeat", "backbeat_rock": "backbeat",
    "metal": "double-kick", "boom_bap": "boom-bap", "one_drop": "offbeat skank (one drop)",
    "train": "train beat", "shuffle": "shuffle", "swing": "swing", "none": "rubato (no drums)",
}


# ---------------------------------------------------------------- signal helpers


def _sos(kind: str, cutoff, sr: int, order: int = 2):
    nyq = sr / 2
    wn = np.clip(np.asarray(cutoff, dtype=float) / nyq, 1e-4, 0.999)
    return butter(order, wn, btype=kind, output="sos")


def _filter(x: np.ndarray, kind: str, cutoff, sr: int, order: int = 2) -> np.ndarray:
    return sosfilt(_sos(kind, cutoff, sr, order), x)


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _saw(phase: np.ndarray) -> np.ndarray:
    # Naive (aliased) waveforms are 20x cheaper than band-limited ones; the stem filters
    # that follow remove most of what aliasing adds at these pitches.
    return 2.0 * (phase - np.floor(phase + 0.5))


def _square(phase: np.ndarray, duty: float = 0.5) -> np.ndarray:
    return np.where((phase % 1.0) < duty, 1.0, -1.0)


def _attack_decay(t: np.ndarray, attack: float, decay: float, sustain: float = 0.0) -> np.ndarray:
    env = sustain + (1.0 - sustain) * np.exp(-np.maximum(t - attack, 0.0) / decay)
    return np.where(t < attack, t / max(attack, 1e-4), env)


# ---------------------------------------------------------------- instruments
# Each returns the first n samples of one note at frequency f, before its release.


def _additive(t, f, amps, decays, sr, inharmonic=0.0):
    y = np.zeros_like(t)
    for k, (a, d) in enumerate(zip(amps, decays), start=1):
        fk = f * k * np.sqrt(1.0 + inharmonic * k * k)
        if fk > sr * 0.45:
            break
        y += a * np.sin(2 * np.pi * fk * t) * np.exp(-t / d)
    return y


def _inst_piano(t, f, sr, v):
    amps = [1.0, 0.5, 0.3, 0.18, 0.1, 0.06]
    decays = [1.6 * v["sustain"], 0.9, 0.6, 0.4, 0.3, 0.2]
    return _additive(t, f, amps, decays, sr, inharmonic=0.0004) * _attack_decay(t, 0.004, 5.0, 0.0)


def _inst_epiano(t, f, sr, v):
    tine = 0.25 * np.sin(2 * np.pi * f * 7.0 * t) * np.exp(-t / 0.08)
    body = np.sin(2 * np.pi * f * t + 0.8 * np.exp(-t / 0.4) * np.sin(2 * np.pi * f * t))
    return (body * np.exp(-t / (1.5 * v["sustain"])) + tine) * _attack_decay(t, 0.003, 9.0, 0.0)


def _inst_pluck(t, f, sr, v):
    n_harm = int(v["bright"] * 10) + 4
    amps = [1.0 / k for k in range(1, n_harm + 1)]
    decays = [0.9 * v["sustain"] / (1.0 + 0.5 * k) for k in range(1, n_harm + 1)]
    return _additive(t, f, amps, decays, sr, inharmonic=0.0002)


def _inst_clean_guitar(t, f, sr, v):
    return _inst_pluck(t, f, sr, {**v, "sustain": 0.5 * v["sustain"]})


def _vibrato_phase(t, f, depth, rate, onset=0.15):
    ramp = np.clip(t / onset, 0, 1) if onset > 0 else 1.0
    return f * t + depth * f * ramp * np.sin(2 * np.pi * rate * t) / (2 * np.pi * rate)


def _inst_strings(t, f, sr, v):
    y = _saw(_vibrato_phase(t, f, 0.004, 5.5)) + _saw(_vibrato_phase(t, f * 1.003, 0.004, 5.1))
    return 0.5 * y * _attack_decay(t, 0.25, 2.0, 0.8)


def _inst_violin(t, f, sr, v):
    return _saw(_vibrato_phase(t, f, 0.008, 6.0, 0.2)) * _attack_decay(t, 0.08, 1.0, 0.8)


def _inst_cello(t, f, sr, v):
    return _saw(_vibrato_phase(t, f, 0.005, 5.0, 0.3)) * _attack_decay(t, 0.15, 2.0, 0.85)


def _inst_flute(t, f, sr, v):
    ph = _vibrato_phase(t, f, 0.006, 5.0, 0.2)
    # Seeded by pitch: a cached note must not depend on the clip's generator state.
    breath = 0.03 * np.random.default_rng(int(f)).standard_normal(len(t))
    return (np.sin(2 * np.pi * ph) + 0.2 * np.sin(4 * np.pi * ph) + breath) * _attack_decay(t, 0.06, 1.0, 0.85)


def _inst_pad(t, f, sr, v):
    y = sum(_saw(f * d * t + o) for d, o in ((1.0, 0.0), (1.006, 0.3), (0.994, 0.6)))
    return y / 3.0 * _attack_decay(t, 0.05 + 0.3 * v["sustain"], 3.0, 0.7)


def _inst_organ(t, f, sr, v):
    y = sum(a * np.sin(2 * np.pi * f * k * t) for k, a in ((0.5, 0.6), (1, 1.0), (2, 0.6), (3, 0.4), (4, 0.3), (6, 0.15)))
    return y / 3.0 * _attack_decay(t, 0.01, 1.0, 1.0)


def _inst_bass(t, f, sr, v):
    y = np.sin(2 * np.pi * f * t) + 0.4 * _saw(f * t) * v["bright"]
    return y * _attack_decay(t, 0.005, 0.5 + v["sustain"], 0.3)


def _inst_upright_bass(t, f, sr, v):
    return _additive(t, f, [1.0, 0.45, 0.2, 0.1], [0.8, 0.4, 0.25, 0.15], sr) * _attack_decay(t, 0.008, 5.0)


def _inst_synth_bass(t, f, sr, v):
    env = _attack_decay(t, 0.003, 0.25, 0.5)
    return (_square(f * t) * 0.5 + np.sin(2 * np.pi * f * t)) * env


def _inst_sub_bass(t, f, sr, v):
    glide = 1.0 + 0.5 * np.exp(-t / 0.03)
    phase = np.cumsum(f * glide) / sr
    return np.sin(2 * np.pi * phase) * _attack_decay(t, 0.005, 0.9 * (1 + v["sustain"]), 0.2)


def _inst_overdrive(t, f, sr, v):
    y = _saw(f * t) + 0.7 * _saw(f * 1.004 * t + 0.25)
    return y * _attack_decay(t, 0.005, 0.8, 0.55)


def _inst_overdrive_lead(t, f, sr, v):
    return _saw(_vibrato_phase(t, f, 0.012, 5.5, 0.25)) * _attack_decay(t, 0.01, 0.8, 0.7)


def _inst_distortion(t, f, sr, v):
    y = _saw(f * t) + _saw(f * 1.008 * t + 0.4) + 0.6 * _square(f * 0.5 * t)
    return y * _attack_decay(t, 0.003, 0.3, 0.6)


def _inst_vocal(t, f, sr, v):
    # A sung vowel: a buzzy source through two formant-like sine groups, with vibrato.
    ph = _vibrato_phase(t, f, 0.015, 5.5, 0.3)
    y = np.sin(2 * np.pi * ph) + 0.5 * np.sin(4 * np.pi * ph) + 0.35 * np.sin(6 * np.pi * ph) + 0.2 * _saw(ph)
    return y * _attack_decay(t, 0.04, 0.6, 0.75)


def _inst_vocal_rap(t, f, sr, v):
    ph = f * t * (1 - 0.06 * t)
    y = np.sin(2 * np.pi * ph) + 0.5 * _saw(ph) + 0.15 * np.random.default_rng(int(f)).standard_normal(len(t))
    return y * _attack_decay(t, 0.01, 0.12, 0.3)


def _inst_sax(t, f, sr, v):
    ph = _vibrato_phase(t, f, 0.01, 5.0, 0.3)
    return (_square(ph, 0.38) * 0.6 + np.sin(2 * np.pi * ph)) * _attack_decay(t, 0.03, 0.7, 0.75)


def _inst_fiddle(t, f, sr, v):
    return _saw(_vibrato_phase(t, f, 0.012, 6.5, 0.1)) * _attack_decay(t, 0.03, 0.6, 0.75)


INSTRUMENTS: dict[str, Callable] = {
    name[len("_inst_"):]: fn for name, fn in globals().items() if name.startswith("_inst_")
}
INSTRUMENTS["distortion_lead"] = _inst_overdrive_lead

# Stem processing per instrument: (lowpass Hz, highpass Hz, drive). Drive > 0 = tanh distortion.
STEM_TONE: dict[str, tuple[float, float, float]] = {
    "piano": (7000, 40, 0), "epiano": (5000, 60, 0), "pluck": (8000, 70, 0),
    "clean_guitar": (6000, 120, 0), "strings": (4500, 60, 0), "violin": (6000, 180, 0),
    "cello": (3500, 50, 0), "flute": (6000, 200, 0), "pad": (2500, 80, 0),
    "organ": (5000, 50, 0), "bass": (900, 30, 0), "upright_bass": (1200, 30, 0),
    "synth_bass": (1500, 30, 0), "sub_bass": (400, 25, 0), "overdrive": (4500, 90, 4.0),
    "overdrive_lead": (5000, 150, 5.0), "distortion": (5000, 70, 18.0),
    "distortion_lead": (6000, 150, 14.0), "vocal": (5000, 150, 0), "vocal_rap": (6000, 150, 0.5),
    "sax": (5500, 120, 0.5), "fiddle": (7000, 180, 0),
}


# ---------------------------------------------------------------- drums


def _drum_kit(rng: np.random.Generator, sr: int) -> dict[str, np.ndarray]:
    """One randomised kit per clip: kick, snare, clap, hats, ride, crash, rim, brush."""

    def t_of(seconds):
        return np.arange(int(seconds * sr)) / sr

    def noise(seconds):
        return rng.standard_normal(int(seconds * sr))

    kit = {}
    t = t_of(0.45)
    f0, f1, decay = rng.uniform(90, 160), rng.uniform(42, 60), rng.uniform(0.12, 0.3)
    freq = f1 + (f0 - f1) * np.exp(-t / 0.035)
    kit["kick"] = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / decay)
    kit["kick"][: int(0.003 * sr)] += 0.3 * noise(0.003)

    t = t_of(0.35)
    tone_f, snappy = rng.uniform(160, 240), rng.uniform(0.6, 1.4)
    kit["snare"] = (0.6 * np.sin(2 * np.pi * tone_f * t) * np.exp(-t / 0.05)
                    + snappy * _filter(noise(0.35), "bandpass", (1500, 7000), sr) * np.exp(-t / rng.uniform(0.08, 0.18)))

    t = t_of(0.3)
    burst = sum(np.exp(-np.maximum(t - d, 0) / 0.008) * (t >= d) for d in (0.0, 0.011, 0.023))
    kit["clap"] = _filter(noise(0.3), "bandpass", (900, 3500), sr) * (0.7 * burst + np.exp(-t / 0.09))

    hat_hp = rng.uniform(6000, 9000)
    t = t_of(0.12)
    kit["hat"] = _filter(noise(0.12), "highpass", hat_hp, sr, 4) * np.exp(-t / rng.uniform(0.02, 0.05))
    t = t_of(0.5)
    kit["open_hat"] = _filter(noise(0.5), "highpass", hat_hp, sr, 4) * np.exp(-t / 0.18)
    t = t_of(1.2)
    metal = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(3000, 8000, 6))
    kit["ride"] = (0.6 * _filter(noise(1.2), "highpass", 5000, sr, 2) + 0.15 * metal) * np.exp(-t / rng.uniform(0.3, 0.7))
    t = t_of(2.0)
    kit["crash"] = _filter(noise(2.0), "highpass", 3500, sr, 2) * np.exp(-t / rng.uniform(0.6, 1.2))
    t = t_of(0.08)
    kit["rim"] = (_filter(noise(0.08), "bandpass", (1800, 5000), sr) + np.sin(2 * np.pi * 1700 * t)) * np.exp(-t / 0.015)
    t = t_of(0.3)
    kit["brush"] = _filter(noise(0.3), "bandpass", (2000, 9000), sr) * _attack_decay(t, 0.02, 0.09)
    return {k: v / np.max(np.abs(v)) for k, v in kit.items()}


# ---------------------------------------------------------------- arrangement


@dataclass
class _Score:
    """Timing and harmony of one clip: where beats fall and which chord sounds when."""

    sr: int
    n: int
    beats_per_bar: int
    steps_per_beat: int
    beat_times: np.ndarray         # onset time (s) of every beat, plus one past the end
    chords: list                   # per bar: (root midi offset from tonic, intervals)
    tonic: int                     # pitch class 0..11
    scale: tuple[int, ...]
    swing: float
    humanize_s: float
    rng: np.random.Generator

    @property
    def n_bars(self) -> int:
        return len(self.chords)

    def time(self, bar: int, step: float) -> float:
        """Onset (s) of a grid step in a bar, with swing and human timing."""
        beat = bar * self.beats_per_bar + step / self.steps_per_beat
        if self.steps_per_beat == 4 and int(step) % 2 == 1:
            beat += self.swing / self.steps_per_beat
        t = float(np.interp(beat, np.arange(len(self.beat_times)), self.beat_times))
        return t + float(self.rng.normal(0.0, self.humanize_s))

    def step_s(self, bar: int) -> float:
        b = min(bar * self.beats_per_bar, len(self.beat_times) - 2)
        return float(self.beat_times[b + 1] - self.beat_times[b]) / self.steps_per_beat


class _Mixer:
    """Stems of one clip: notes and drum hits are written into per-instrument buffers."""

    def __init__(self, sr: int, n: int, rng: np.random.Generator, detune_cents: float):
        self.sr, self.n, self.rng = sr, n, rng
        self.tuning = 2.0 ** (detune_cents / 1200.0)
        self.stems: dict[str, np.ndarray] = {}
        self._cache: dict[tuple, np.ndarray] = {}
        self.voice: dict[str, dict] = {}

    def _stem(self, name: str) -> np.ndarray:
        if name not in self.stems:
            self.stems[name] = np.zeros(self.n)
        return self.stems[name]

    def note(self, inst: str, midi: float, start_s: float, dur_s: float, vel: float,
             stem: str | None = None) -> None:
        """Add one note: a cached waveform of this pitch, cut to length with a short release."""
        start = int(round(start_s * self.sr))
        if start >= self.n or dur_s <= 0:
            return
        start = max(start, 0)
        release = min(0.05, dur_s * 0.3)
        length = min(int((dur_s + release) * self.sr), self.n - start)
        if length < 8:
            return
        key = (inst, round(float(midi), 2))
        wave = self._cache.get(key)
        if wave is None or len(wave) < length:
            v = self.voice.setdefault(inst, {"sustain": self.rng.uniform(0.6, 1.4),
                                             "bright": self.rng.uniform(0.2, 1.0)})
            cache_len = max(length, int(min(dur_s * 2, 4.0) * self.sr))
            t = np.arange(cache_len) / self.sr
            wave = INSTRUMENTS[inst](t, _midi_hz(midi) * self.tuning, self.sr, v)
            self._cache[key] = wave
        seg = wave[:length] * vel
        rel = int(release * self.sr)
        if rel > 1 and length > rel:
            seg[-rel:] *= np.linspace(1.0, 0.0, rel)
        self._stem(stem or inst)[start:start + length] += seg

    def hit(self, sample: np.ndarray, name: str, time_s: float, vel: float) -> None:
        """Add one drum hit to the drum stem."""
        start = int(round(time_s * self.sr))
        if not 0 <= start < self.n:
            return
        end = min(start + len(sample), self.n)
        self._stem("drums:" + name)[start:end] += vel * sample[: end - start]


def _chord_notes(score: _Score, bar: int, octave: int, inversion_rng: bool = True) -> list[int]:
    root, intervals = score.chords[bar]
    base = 12 * (octave + 1) + score.tonic + root
    notes = [base + i for i in intervals]
    if inversion_rng and len(notes) >= 3 and score.rng.random() < 0.4:
        notes = notes[1:] + [notes[0] + 12]
    return notes


def _bass_root(score: _Score, bar: int, octave: int) -> int:
    root, _ = score.chords[bar]
    return 12 * (octave + 1) + score.tonic + root


@dataclass
class _Part:
    """One part being written: its instrument, its stem and the octaves it voices in."""

    mix: _Mixer
    score: _Score
    inst: str
    stem: str
    bass_octave: int
    comp_octave: int

    def note(self, midi: float, start_s: float, dur_s: float, vel: float) -> None:
        """Add one note of this part's instrument to its stem."""
        self.mix.note(self.inst, midi, start_s, dur_s, vel, self.stem)

    def chord(self, bar: int, step: float, dur_steps: float, vel: float, octave: int | None = None,
              spread: float = 0.0) -> None:
        """The bar's chord at a grid step, its notes ``spread`` seconds apart (a strum)."""
        t0 = self.score.time(bar, step)
        for k, m in enumerate(_chord_notes(self.score, bar, self.comp_octave if octave is None else octave)):
            self.note(m, t0 + k * spread, dur_steps * self.score.step_s(bar), vel)


def _comp_bar(part: _Part, role: str, bar: int, vel: float) -> None:
    """One bar of an accompaniment role (chords, arpeggios, riffs)."""
    score, rng, co = part.score, part.score.rng, part.comp_octave
    spb = score.steps_per_beat
    steps = score.beats_per_bar * spb
    sd = score.step_s(bar)
    if role == "comp_sustain":
        part.chord(bar, 0, steps, vel)
    elif role == "comp_steps":  # block chords on every beat
        for b in range(score.beats_per_bar):
            part.chord(bar, b * spb, spb * 0.9, vel * (1.0 if b % 2 == 0 else 0.8))
    elif role == "comp_stabs":  # short syncopated stabs
        for s in (2, 6, 10, 14) if spb == 4 else (0, 6):
            part.chord(bar, s, 1.2, vel)
    elif role == "comp_funk":
        for s in range(0, steps, 1):
            if rng.random() < 0.45:
                part.chord(bar, s, 0.6, vel * rng.uniform(0.5, 1.0), octave=co, spread=0.004)
    elif role == "comp_skank":  # reggae: short chord on each offbeat
        for s in range(2, steps, 4):
            part.chord(bar, s, 0.8, vel, octave=co, spread=0.003)
    elif role == "comp_bubble":
        for s in range(1, steps, 2):
            part.chord(bar, s, 0.7, vel * (0.8 if s % 4 == 1 else 0.5), octave=co - 1)
    elif role == "comp_strum":  # strummed chords on beats 2 and 4 plus 'and's
        for s in (0, 4, 6, 8, 12, 14) if spb == 4 else (0, 3, 6, 9):
            part.chord(bar, s, 2.0, vel * (1.0 if s % 4 == 0 else 0.7), spread=0.012)
    elif role == "comp_eighths":  # rock power chords in 8ths
        for s in range(0, steps, 2):
            part.chord(bar, s, 1.9, vel * (1.0 if s % 4 == 0 else 0.8), octave=co, spread=0.0)
    elif role == "comp_shuffle":  # blues shuffle: root-fifth / root-sixth boogie
        root = _bass_root(score, bar, co - 1)
        for b in range(score.beats_per_bar):
            top = root + (7 if b % 2 == 0 else 9)
            for s, d in ((0, 2.0), (2, 1.0)):
                t0 = score.time(bar, b * spb + s)
                part.note(root, t0, d * sd, vel * 0.9)
                part.note(top, t0, d * sd, vel * 0.9)
    elif role == "comp_jazz":  # sparse syncopated comping on extended voicings
        for s in range(0, steps, spb if spb == 3 else 2):
            if rng.random() < 0.35:
                part.chord(bar, s + (2 if spb == 3 and rng.random() < 0.5 else 0), 2.5,
                           vel * rng.uniform(0.5, 1.0), spread=0.01)
    elif role == "arpeggio":
        notes = _chord_notes(score, bar, co, False)
        notes = notes + [notes[1] + 12] if len(notes) > 1 else notes
        stride = 2 if spb == 4 else 1
        for i, s in enumerate(range(0, steps, stride)):
            part.note(notes[i % len(notes)], score.time(bar, s), 3 * stride * sd, vel * 0.8)
    elif role == "chug":  # metal: palm-muted 16ths with accents
        root = _chord_notes(score, bar, co, False)
        for s in range(steps):
            if rng.random() < 0.85:
                accent = s % 4 == 0
                for m in root[: 3 if accent else 2]:
                    part.note(m, score.time(bar, s), (0.9 if accent else 0.45) * sd, vel * (1.0 if accent else 0.7))


def _bass_bar(part: _Part, role: str, bar: int, vel: float) -> None:
    """One bar of a bass-line role."""
    score, rng, bo = part.score, part.score.rng, part.bass_octave
    spb = score.steps_per_beat
    steps = score.beats_per_bar * spb
    sd = score.step_s(bar)
    if role == "bass_sustain":
        part.note(_bass_root(score, bar, bo), score.time(bar, 0), steps * sd, vel)
    elif role == "bass_chug":
        for s in range(0, steps, 2):
            part.note(_bass_root(score, bar, bo + 1), score.time(bar, s), 1.8 * sd, vel)
    elif role == "bass_eighths":
        for s in range(0, steps, 2):
            part.note(_bass_root(score, bar, bo), score.time(bar, s), 1.8 * sd, vel * (1.0 if s % 4 == 0 else 0.8))
    elif role == "bass_octave":  # disco: octave-jumping 8ths
        root = _bass_root(score, bar, bo)
        for s in range(0, steps, 2):
            part.note(root + (12 if s % 4 == 2 else 0), score.time(bar, s), 1.5 * sd, vel)
    elif role == "bass_rootfifth":  # country: root on 1, fifth on 3
        root = _bass_root(score, bar, bo)
        for b in range(score.beats_per_bar):
            if b % 2 == 0:
                part.note(root + (0 if b == 0 else 7), score.time(bar, b * spb), spb * 1.6 * sd, vel)
    elif role == "bass_shuffle":  # blues walking boogie: 1-3-5-6-b7-6-5-3
        root = _bass_root(score, bar, bo)
        line = (0, 4, 7, 9, 10, 9, 7, 4)
        for i in range(score.beats_per_bar * 2):
            b, s = divmod(i, 2)
            part.note(root + line[i % 8], score.time(bar, b * spb + s * 2), (2 if s == 0 else 1) * sd, vel)
    elif role == "bass_walk":  # jazz walking bass: chord tones and chromatic approach
        _, intervals = score.chords[bar]
        root = _bass_root(score, bar, bo)
        nxt = _bass_root(score, (bar + 1) % score.n_bars, bo)
        for b in range(score.beats_per_bar):
            if b == 0:
                m = root
            elif b == score.beats_per_bar - 1:
                m = nxt + rng.choice((-1, 1, -2))
            else:
                m = root + int(rng.choice(intervals[:4])) + int(rng.choice((0, 0, 2, -1)))
            part.note(m, score.time(bar, b * spb), spb * 0.95 * sd, vel * rng.uniform(0.85, 1.0))
    elif role == "bass_808":  # hiphop: long sub notes with the kick
        root = _bass_root(score, bar, bo)
        for s, d in ((0, 7), (7, 3), (10, 6)):
            part.note(root, score.time(bar, s), d * sd, vel)
    elif role == "bass_reggae":  # leaves beat one empty, melodic around the triad
        root = _bass_root(score, bar, bo)
        third = 3 if score.scale == MINOR_SCALE else 4
        for s, off in ((2, 0), (4, 0), (6, 7), (10, third), (12, 7), (14, 12)):
            if rng.random() < 0.85:
                part.note(root + off, score.time(bar, s), 1.8 * sd, vel)


COMP_ROLES = frozenset({"comp_sustain", "comp_steps", "comp_stabs", "comp_funk", "comp_skank",
                        "comp_bubble", "comp_strum", "comp_eighths", "comp_shuffle", "comp_jazz",
                        "arpeggio", "chug"})
BASS_ROLES = frozenset({"bass_sustain", "bass_chug", "bass_eighths", "bass_octave", "bass_rootfifth",
                        "bass_shuffle", "bass_walk", "bass_808", "bass_reggae"})
MELODY_ROLES = frozenset({"melody", "melody_slow", "lead_blues", "lead_metal", "rap"})


def _play_part(mix: _Mixer, score: _Score, role: str, inst: str, level: float,
               style: GenreStyle) -> None:
    """Write one part (bass line, comping, melody...) through the whole clip, bar by bar."""
    if role not in COMP_ROLES | BASS_ROLES | MELODY_ROLES:
        raise ValueError(f"unknown part role {role!r}")
    part = _Part(mix, score, inst, inst + ":" + role, style.bass_octave, style.comp_octave)
    for bar in range(score.n_bars):
        vel = level * score.rng.uniform(0.8, 1.0)
        if role in COMP_ROLES:
            _comp_bar(part, role, bar, vel)
        elif role in BASS_ROLES:
            _bass_bar(part, role, bar, vel)
        else:
            _melody(mix, score, role, inst, bar, vel, part.stem)


def _melody(mix: _Mixer, score: _Score, role: str, inst: str, bar: int, vel: float, stem: str) -> None:
    """A phrase-shaped random walk over the scale (or blues scale), with rests."""
    rng, spb = score.rng, score.steps_per_beat
    steps = score.beats_per_bar * spb
    sd = score.step_s(bar)
    if role == "rap":  # rhythmic, narrow pitch, many short syllables
        if bar % 4 == 3 and rng.random() < 0.5:
            return
        for s in range(0, steps, 2 if spb == 4 else 1):
            if rng.random() < 0.75:
                mix.note(inst, 12 * 4 + score.tonic + int(rng.integers(-2, 3)), score.time(bar, s), 1.6 * sd,
                         vel * rng.uniform(0.6, 1.0), stem)
        return
    if role == "melody_slow":
        lengths, octave = (spb * 2, spb * 4, spb), 5
    elif role == "lead_metal":
        lengths, octave = (1, 2, 2), 5
    elif role == "lead_blues":
        lengths, octave = (spb, 2, spb * 2), 4
    else:
        lengths, octave = (spb, spb * 2, 2 if spb == 4 else 3), 4
    if bar % 4 == 3 and rng.random() < 0.6:  # breathe at phrase ends
        return
    scale = BLUES_SCALE if role == "lead_blues" else score.scale
    state = mix.voice.setdefault(stem + ":deg", {"deg": int(rng.integers(0, len(scale)))})
    pos = 0
    while pos < steps:
        dur = int(rng.choice(lengths))
        if rng.random() < 0.15:
            pos += dur
            continue
        state["deg"] = int(np.clip(state["deg"] + rng.choice((-2, -1, -1, 0, 1, 1, 2)), -3, len(scale) + 4))
        d = state["deg"]
        midi = 12 * (octave + 1 + d // len(scale)) + score.tonic + scale[d % len(scale)]
        mix.note(inst, midi, score.time(bar, pos), dur * sd * 0.95, vel * rng.uniform(0.75, 1.0), stem)
        pos += dur


def _play_drums(mix: _Mixer, score: _Score, groove: str, level: float, drop_prob: float,
                kit: dict[str, np.ndarray]) -> None:
    """The drum groove through the whole clip, with dropped hits and fills."""
    rng = score.rng
    pattern = DRUM_PATTERNS[groove]
    pattern_steps = 12 if groove in ("shuffle", "swing") else 16
    grid_steps = score.beats_per_bar * score.steps_per_beat
    scale = grid_steps / pattern_steps  # a borrowed pattern is stretched onto the clip's grid
    blast = groove == "metal" and rng.random() < 0.3
    for bar in range(score.n_bars):
        fill = bar % 8 == 7 and rng.random() < 0.5
        for drum, hits in pattern.items():
            if drum == "kick" and groove == "metal" and not blast:
                hits = tuple((s, v) for s, v in hits if s % 2 == 0 or rng.random() < 0.3)
            if drum == "crash" and bar % 4:
                continue
            for step, v in hits:
                if rng.random() < drop_prob:
                    continue
                mix.hit(kit[drum], drum, score.time(bar, step * scale), level * v * rng.uniform(0.85, 1.0))
        if fill:
            for s in range(pattern_steps - 4, pattern_steps):
                mix.hit(kit["snare"], "snare", score.time(bar, s * scale), level * rng.uniform(0.5, 0.9))


@dataclass(frozen=True)
class ClipPlan:
    """Every clip-level choice of one clip (the manifest row); the notes are drawn later."""

    genre: str
    duration_s: float
    sr: int
    tempo_bpm: float
    beats_per_bar: int
    mode: str
    tonic: int
    progression: tuple
    bars_per_chord: int
    groove: str                          # key into DRUM_PATTERNS, or "none"
    drums: bool
    parts: tuple[tuple[str, str, float], ...]
    borrowed_groove: str
    borrowed_part: str
    swing: float
    detune_cents: float
    reverb_wet: float
    lowpass_hz: float
    highpass_hz: float
    noise_db: float
    peak: float

    def meta(self) -> dict:
        """The plan as a flat, human-readable dict (one manifest row)."""
        return {
            "genre": self.genre,
            "tempo_bpm": round(self.tempo_bpm, 2),
            "key": f"{NOTE_NAMES[self.tonic]} {self.mode}",
            "meter": f"{self.beats_per_bar}/4",
            "groove": GROOVE_NAMES[self.groove] if self.drums else "no drums",
            "progression": _progression_name(self.progression),
            "bars_per_chord": self.bars_per_chord,
            "instruments": "+".join(sorted({inst for _, inst, _ in self.parts})),
            "borrowed_groove": self.borrowed_groove,
            "borrowed_part": self.borrowed_part,
            "detune_cents": round(self.detune_cents, 1),
            "reverb_wet": round(self.reverb_wet, 3),
            "lowpass_hz": round(self.lowpass_hz),
            "highpass_hz": round(self.highpass_hz),
            "noise_db": round(self.noise_db, 1),
            "peak": round(self.peak, 3),
            "duration_s": round(int(round(self.duration_s * self.sr)) / self.sr, 3),
            "sample_rate": self.sr,
        }


def plan_clip(genre: str, rng: np.random.Generator, duration_s: float = 30.0,
              sr: int = SAMPLE_RATE) -> ClipPlan:
    """Draw the clip-level choices (tempo, key, groove, parts, recording) of one clip."""
    if genre not in STYLES:
        raise ValueError(f"unknown genre {genre!r}: expected one of {', '.join(GENRES)}")
    if duration_s <= 0 or sr <= 0:
        raise ValueError(f"duration_s and sr must be positive, got {duration_s} and {sr}")
    style = STYLES[genre]

    # Borrowing from a neighbour genre gives the corpus realistic overlap.
    borrowed_groove = borrowed_part = ""
    groove = style.groove
    if style.groove != "none" and rng.random() < 0.18:
        other = STYLES[str(rng.choice(NEIGHBOURS[genre]))]
        if other.groove != "none":
            groove = borrowed_groove = other.groove
    parts = list(style.parts)
    for opt in style.optional_parts:
        if rng.random() < 0.4:
            parts.append(opt)
    if rng.random() < 0.25:
        other_genre = str(rng.choice(NEIGHBOURS[genre]))
        extra = STYLES[other_genre].parts[int(rng.integers(len(STYLES[other_genre].parts)))]
        if not extra[0].startswith("bass"):
            parts.append(extra)
            borrowed_part = f"{other_genre}:{extra[0]}:{extra[1]}"
    if len(parts) > 2 and rng.random() < 0.25:  # sometimes a part sits out
        parts.pop(int(rng.integers(1, len(parts))))
    parts = [(role, inst, level_db + float(rng.uniform(-4, 4))) for role, inst, level_db in parts]

    mode = style.mode if style.mode != "either" else ("major" if rng.random() < 0.6 else "minor")
    return ClipPlan(
        genre=genre, duration_s=float(duration_s), sr=int(sr),
        tempo_bpm=float(rng.uniform(*style.tempo)),
        beats_per_bar=3 if genre == "classical" and rng.random() < 0.35 else 4,
        mode=mode, tonic=int(rng.integers(12)),
        progression=style.progressions[int(rng.integers(len(style.progressions)))],
        bars_per_chord=int(rng.choice(style.bars_per_chord)),
        groove=groove, drums=groove != "none" and rng.random() > 0.05,
        parts=tuple(parts), borrowed_groove=borrowed_groove, borrowed_part=borrowed_part,
        swing=float(rng.uniform(0.1, 0.3)) if genre == "hiphop" else 0.0,
        detune_cents=float(rng.normal(0, 12)),
        reverb_wet=float(rng.uniform(*style.reverb)),
        lowpass_hz=float(rng.choice([rng.uniform(3500, 7000), rng.uniform(7000, 10500)])),
        highpass_hz=float(rng.uniform(25, 160)),
        noise_db=float(rng.uniform(-55, -22)),
        peak=float(rng.uniform(0.35, 0.95)),
    )


def render_clip(plan: ClipPlan, rng: np.random.Generator) -> np.ndarray:
    """The float32 signal of a planned clip; ``rng`` draws the notes, hits and noise."""
    style, sr = STYLES[plan.genre], plan.sr
    n = int(round(plan.duration_s * sr))
    steps_per_beat = style.steps_per_beat
    beat_s = 60.0 / plan.tempo_bpm
    n_beats = int(np.ceil(plan.duration_s / beat_s)) + plan.beats_per_bar + 2
    if style.rubato:
        wander = 1.0 + style.rubato * np.sin(2 * np.pi * np.arange(n_beats) / rng.uniform(8, 20) + rng.uniform(0, 6.3))
        beat_times = np.concatenate([[0.0], np.cumsum(beat_s * wander)])
    else:
        beat_times = np.arange(n_beats + 1) * beat_s
    beat_times = beat_times - rng.uniform(0, beat_s)  # clips start anywhere in a bar, as GTZAN excerpts do
    n_bars = n_beats // plan.beats_per_bar
    scale = MAJOR_SCALE if plan.mode == "major" else MINOR_SCALE
    chords = [plan.progression[(b // plan.bars_per_chord) % len(plan.progression)] for b in range(n_bars)]
    score = _Score(sr, n, plan.beats_per_bar, steps_per_beat, beat_times, chords, plan.tonic, scale,
                   plan.swing, style.humanize_ms / 1000.0, rng)
    mix = _Mixer(sr, n, rng, plan.detune_cents)

    for role, inst, level_db in plan.parts:
        _play_part(mix, score, role, inst, 10 ** (level_db / 20), style)
    if plan.drums:
        drum_level = 10 ** ((style.drum_level_db + rng.uniform(-5, 3)) / 20)
        _play_drums(mix, score, plan.groove, drum_level, style.drop_prob, _drum_kit(rng, sr))

    y = np.zeros(n)
    for name, stem in mix.stems.items():
        if not name.startswith("drums:"):
            lp, hp, drive = STEM_TONE[name.split(":")[0]]
            lp *= rng.uniform(0.6, 1.4)
            if drive:
                stem = np.tanh(drive * rng.uniform(0.6, 1.5) * stem / (np.max(np.abs(stem)) + 1e-9))
            stem = _filter(stem, "bandpass", (hp, min(lp, sr * 0.45)), sr)
        y += stem

    # Slow dynamics: phrase swells (classical) or gentle level drift.
    n_ctrl = max(int(plan.duration_s / 4), 2)
    curve_db = style.dynamics_db * np.cumsum(rng.normal(0, 0.6, n_ctrl))
    curve_db -= curve_db.mean()
    y *= 10 ** (np.interp(np.arange(n), np.linspace(0, n - 1, n_ctrl), curve_db) / 20)

    # The "recording": room, EQ, noise floor, hum; GTZAN's sources vary just as much.
    ir_t = np.arange(int(rng.uniform(0.3, 1.2) * sr)) / sr
    ir = rng.standard_normal(len(ir_t)) * np.exp(-ir_t / rng.uniform(0.12, 0.45))
    ir = _filter(ir, "lowpass", rng.uniform(2500, 7000), sr)
    reverb = fftconvolve(y, ir)[:n]
    y = y + plan.reverb_wet * reverb * (np.std(y) / (np.std(reverb) + 1e-12))
    y = _filter(y, "bandpass", (plan.highpass_hz, min(plan.lowpass_hz, sr * 0.45)), sr)
    y /= np.std(y) + 1e-12
    noise = rng.standard_normal(n)
    if rng.random() < 0.5:  # pink-ish tape hiss instead of white
        noise = _filter(noise, "lowpass", rng.uniform(1000, 4000), sr, 1) * 3
    y += 10 ** (plan.noise_db / 20) * noise
    if rng.random() < 0.15:
        y += 10 ** (rng.uniform(-45, -30) / 20) * np.sin(2 * np.pi * float(rng.choice([50.0, 60.0])) * np.arange(n) / sr)
    return (y * (plan.peak / (np.max(np.abs(y)) + 1e-12))).astype(np.float32)


def synthesize_clip(genre: str, rng: np.random.Generator, duration_s: float = 30.0,
                    sr: int = SAMPLE_RATE) -> tuple[np.ndarray, dict]:
    """One clip of ``genre``: (float32 mono signal, its musical parameters).

    The same generator state gives the same clip; the dict is :meth:`ClipPlan.meta`.
    """
    plan = plan_clip(genre, rng, duration_s, sr)
    return render_clip(plan, rng), plan.meta()


_ROMAN = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")
_QUALITY = {MAJ: "", MIN: "m", DOM7: "7", MIN7: "m7", MAJ7: "maj7", DOM9: "9", MIN9: "m9",
            MAJ9: "maj9", POWER: "5"}


def _progression_name(progression) -> str:
    return "-".join(_ROMAN[root] + _QUALITY.get(tuple(q), "") for root, q in progression)


def clip_rng(seed: int, genre: str, index: int) -> np.random.Generator:
    """The generator for clip ``index`` of ``genre``: independent of which others are made."""
    if genre not in GENRES:
        raise ValueError(f"unknown genre {genre!r}: expected one of {', '.join(GENRES)}")
    return np.random.default_rng([int(seed), GENRES.index(genre), int(index)])


def track_key(genre: str, index: int) -> str:
    """GTZAN's name for a clip, without extension: ``blues/blues.00007``."""
    return f"{genre}/{genre}.{index:05d}"


def generate_corpus(n_per_genre: int = 10, duration_s: float = 30.0, sr: int = SAMPLE_RATE,
                    seed: int = 0, genres: tuple[str, ...] = GENRES
                    ) -> Iterator[tuple[str, np.ndarray, int, dict]]:
    """Yield ``(track_key, y, sr, meta)`` clip by clip (lazily: one clip in memory at a time)."""
    for genre in genres:
        for index in range(n_per_genre):
            y, meta = synthesize_clip(genre, clip_rng(seed, genre, index), duration_s, sr)
            yield track_key(genre, index), y, sr, meta
