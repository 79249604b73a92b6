"""The preset-inference commands::

    neuralsynth train DATASET --out MODEL/ [--arch cnn|ast] [--epochs N] [--val 0.05] [--seed S] [--resume]
    neuralsynth predict MODEL/ SOUND --out guess.fxp [--plugin P] [--candidates K] [--refine STEPS] [--json F]
    neuralsynth evaluate MODEL/ DATASET [DATASET ...] [--report DIR] [--no-baselines] [--limit N]

The library is :mod:`neuralsynth.inverse`; torch is imported by ``train`` only.
"""

from __future__ import annotations

import argparse
import json

from .validators import non_negative_int, positive_float, positive_int

__all__ = ["add_parsers"]


def _cmd_train(args: argparse.Namespace) -> int:
    from ..inverse.train import TrainConfig, train

    config = TrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, val_fraction=args.val,
                         seed=args.seed, learning_rate=args.lr)
    train(args.dataset, args.out, config, resume=args.resume, progress=not args.quiet)
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from ..inverse.predict import predict_file

    p = predict_file(args.model, args.sound, args.plugin, args.out, candidates=args.candidates,
                     refine_steps=args.refine, refine_seconds=args.refine_seconds, workers=args.workers,
                     seed=args.seed, json_out=args.json)
    if args.print_json:
        print(json.dumps(p.to_dict(), indent=2, default=float))
    else:
        dist = "not rendered" if p.distance is None else f"{p.distance:.3f}"
        print(f"note {p.note} ({'no pitch found' if p.f0_hz is None else f'{p.f0_hz:.1f} Hz'}); chose {p.chosen}; "
              f"multi-scale spectral distance {dist}; {p.renders} renders"
              + (f", {len(p.failures)} failed" if p.failures else ""))
        print(f"network {p.seconds_network * 1000:.1f} ms; whole predict {p.seconds_total:.2f} s")
        if args.out:
            print(f"wrote {args.out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ..inverse.evaluate import evaluate

    sets = [(f"{d}", d) for d in args.datasets]
    evaluate(args.model, sets, plugin=args.plugin, report=args.report, baselines=args.baselines,
             candidates=args.candidates, limit=args.limit, workers=args.workers, seed=args.seed, train=args.train)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a preset predictor on a rendered dataset and export it to ONNX")
    p.add_argument("dataset", metavar="DATASET", help="a folder written by `neuralsynth render` (with features)")
    p.add_argument("--out", required=True, metavar="MODEL", help="model folder (checkpoint, predictor.onnx/.json)")
    p.add_argument("--arch", choices=("cnn", "ast"), default="cnn", help="encoder (default: %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=30, help="(default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="(default: %(default)s)")
    p.add_argument("--lr", type=positive_float, default=2e-3, help="peak learning rate (default: %(default)s)")
    p.add_argument("--val", type=positive_float, default=0.05, help="validation fraction (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="(default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from MODEL/checkpoint.pt")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help="predict a plugin preset (.fxp) from a sound")
    p.add_argument("model", metavar="MODEL", help="the --out folder of `neuralsynth train`")
    p.add_argument("sound", metavar="SOUND", help="an audio file (any rate)")
    p.add_argument("--out", metavar="FXP", help="write the preset here")
    p.add_argument("--plugin", help="the plugin (default: the one the model was trained on)")
    p.add_argument("--candidates", type=positive_int, default=8, help="candidates rendered (default: %(default)s)")
    p.add_argument("--refine", type=non_negative_int, default=0, metavar="STEPS", help="CMA-ES generations")
    p.add_argument("--refine-seconds", type=positive_float, metavar="S", help="time bound of --refine")
    p.add_argument("--workers", type=positive_int, default=2, help="render workers (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--json", metavar="FILE", help="write the parameters and timings as JSON")
    p.add_argument("--print-json", action="store_true", help="print the JSON instead of a summary")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate", help="evaluate a predictor on test datasets against baselines")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("datasets", metavar="DATASET", nargs="+")
    p.add_argument("--report", metavar="DIR", help="write index.html and summary.json here")
    p.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                   help="nearest neighbour and random (default: on)")
    p.add_argument("--train", metavar="DATASET", help="training set for the nearest neighbour (default: the model's)")
    p.add_argument("--plugin")
    p.add_argument("--candidates", type=positive_int, default=8)
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N items per dataset (seeded)")
    p.add_argument("--workers", type=positive_int, default=2)
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(func=_cmd_evaluate)
