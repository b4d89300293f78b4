"""Tokens per second of one ELECTRA-Small pre-training step, on this machine.

What is measured
----------------
One full replaced-token-detection training step (masking where the
implementation does it in the step, generator forward, sampling,
discriminator forward, both losses, backward pass, AdamW update) of
ELECTRA-Small: discriminator 12 layers, hidden 256, 4 heads, embeddings 128,
vocabulary 30,522; generator 1/4 wide (hidden 64, 1 head, feed-forward 256,
shared embeddings); 19 prediction slots per 128-token sequence; masking
rate 15%; loss = masked-LM + 50 x discriminator BCE. Weights are random and
token ids are random (no downloads). The same input batch is fed every step,
so input pipelines are not part of the measurement.

Contenders (each runs in its own Python process)
------------------------------------------------
* ``keras-tf``      keras_electra ``ReplacedTokenDetector.train_on_batch``,
                    ``KERAS_BACKEND=tensorflow``, ``jit_compile=False``.
* ``keras-tf-xla``  the same with ``jit_compile=True``.
* ``keras-jax``     ``KERAS_BACKEND=jax`` (jitted train step).
* ``keras-torch``   ``KERAS_BACKEND=torch`` (eager).
* ``keras-jax-bf16`` / ``keras-tf-bf16`` / ``keras-torch-bf16``: the same
                    under the ``mixed_bfloat16`` dtype policy (optional rows).
* ``keras-tf-bf16mm`` / ``keras-jax-bf16mm`` / ``keras-torch-bf16mm``: bfloat16 for the dense
                    projections only (``set_matmul_dtype_policy`` with its
                    defaults: their GELUs computed in float32), the rest
                    float32 (optional rows).
* ``tfm``           tf-models-official ``ElectraPretrainer`` (tf_keras) with
                    the ``electra_task`` losses, stepped by a ``tf.function``
                    with ``AdamWeightDecay`` (the optimizer tf-models'
                    ``adamw`` config builds). Masking is done by tf-models'
                    input pipeline, so it is precomputed here and excluded
                    from the step: a small advantage to this peer.
* ``hf-torch``      Hugging Face ``ElectraForMaskedLM`` (generator) +
                    ``ElectraForPreTraining`` (discriminator), embeddings
                    shared, 15% masking in the step, full-sequence MLM logits
                    (as Hugging Face computes them), Gumbel-max sampling,
                    ``torch.optim.AdamW``, 2 torch threads.
* ``hf-torch-bf16`` the same under ``torch.autocast("cpu", bfloat16)``
                    (optional row).
* ``tfm-bf16``      tf-models under tf_keras' ``mixed_bfloat16`` policy
                    (optional row; fails with tf-models 2.20: its sampler
                    adds float32 Gumbel noise to bfloat16 logits).

All contenders use the compile/optimizer defaults of their library: AdamW
with weight decay 0.01 and global-norm clipping 1.0, dropout 0.1.

Methodology
-----------
The machine is shared and noisy, so contenders are never compared across
runs. The parent process starts one worker per contender, one after the other;
each builds its model, runs ``--warmup`` untimed steps (tracing and
compilation happen here) and then waits idle, blocked on its stdin.
Timed work is interleaved: in every round each worker in turn (the order
rotates every round) runs ``--steps`` steps, timing each step with a wall
clock around a call that returns host values (the loss), so asynchronous
dispatch cannot hide work. Only one worker computes at any time. The
reported step time is the median of all timed steps of a contender;
tokens/s = batch_size x seq_length / median step time. The spread column is
the interquartile range of the step times relative to the median.

Usage::

    python benchmarks/train_step.py                 # full comparison
    python benchmarks/train_step.py --quick         # smoke test
    python benchmarks/train_step.py --contenders keras-jax,hf-torch \
        --steps 5 --rounds 4 --json results.json
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

VOCABULARY_SIZE = 30522
MASK_ID = 103  # Only its value matters to the peers; ids 0-4 are special.
MASK_RATE = 0.15
DISCRIMINATOR = dict(num_layers=12, hidden=256, heads=4, intermediate=1024)
GENERATOR = dict(num_layers=12, hidden=64, heads=1, intermediate=256)
EMBEDDING_DIM = 128
MAX_POSITIONS = 512
DISCRIMINATOR_LOSS_WEIGHT = 50.0
LEARNING_RATE = 5e-4

KERAS_CONTENDERS = {
    "keras-tf": ("tensorflow", False, None),
    "keras-tf-xla": ("tensorflow", True, None),
    "keras-jax": ("jax", None, None),
    "keras-torch": ("torch", None, None),
    "keras-tf-bf16": ("tensorflow", False, "mixed_bfloat16"),
    "keras-jax-bf16": ("jax", None, "mixed_bfloat16"),
    "keras-torch-bf16": ("torch", None, "mixed_bfloat16"),
    # bfloat16 matrix products only (`set_matmul_dtype_policy`), the rest
    # float32: the split PyTorch's CPU autocast makes.
    "keras-tf-bf16mm": ("tensorflow", False, "matmul_bfloat16"),
    "keras-jax-bf16mm": ("jax", None, "matmul_bfloat16"),
    "keras-torch-bf16mm": ("torch", None, "matmul_bfloat16"),
    # No dropout on the attention probabilities (`attention_dropout=0.0`):
    # attention goes through keras.ops.dot_product_attention (fused kernels).
    "keras-tf-ad0": ("tensorflow", False, None, 0.0),
    "keras-jax-ad0": ("jax", None, None, 0.0),
    "keras-torch-ad0": ("torch", None, None, 0.0),
}
PEER_CONTENDERS = ("tfm", "hf-torch", "tfm-bf16", "hf-torch-bf16",
                   "hf-torch-ad0")
ALL_CONTENDERS = tuple(KERAS_CONTENDERS) + PEER_CONTENDERS
DEFAULT_CONTENDERS = (
    "keras-tf",
    "keras-tf-xla",
    "keras-jax",
    "keras-torch",
    "keras-jax-bf16",
    "tfm",
    "hf-torch",
)
MESSAGE_PREFIX = "@@train_step "


# ---------------------------------------------------------------------------
# Inputs shared by all contenders
# ---------------------------------------------------------------------------


def max_predictions(seq_length):
    """Prediction slots per sequence, as the original recipe: 19 at 128."""
    return int((MASK_RATE + 0.005) * seq_length)


def random_batch(batch_size, seq_length, seed=0):
    """`[CLS] random words [SEP]` rows with no padding (int32 numpy)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, VOCABULARY_SIZE, (batch_size, seq_length))
    ids = ids.astype("int32")
    ids[:, 0], ids[:, -1] = 101, 102
    return {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": np.ones_like(ids),
    }


def premasked_batch(batch_size, seq_length, seed=0):
    """The batch plus pre-chosen masked positions (for tf-models' pipeline)."""
    import numpy as np

    batch = random_batch(batch_size, seq_length, seed)
    rng = np.random.default_rng(seed + 1)
    slots = max_predictions(seq_length)
    positions = np.stack(
        [
            np.sort(rng.choice(np.arange(1, seq_length - 1), slots, False))
            for _ in range(batch_size)
        ]
    ).astype("int32")
    original = np.take_along_axis(batch["token_ids"], positions, axis=1)
    masked = batch["token_ids"].copy()
    use_mask = rng.random(positions.shape) < 0.85
    rows = np.arange(batch_size)[:, None].repeat(slots, 1)
    masked[rows[use_mask], positions[use_mask]] = MASK_ID
    return {
        "input_word_ids": masked,
        "input_mask": batch["padding_mask"],
        "input_type_ids": batch["segment_ids"],
        "masked_lm_positions": positions,
        "masked_lm_ids": original,
        "masked_lm_weights": np.ones(positions.shape, "float32"),
    }


# ---------------------------------------------------------------------------
# Step builders: each returns a zero-argument callable running one step and
# returning a host float (the loss), which forces the step to complete.
# ---------------------------------------------------------------------------


def build_keras_step(contender, batch_size, seq_length):
    _, jit_compile, policy = KERAS_CONTENDERS[contender][:3]
    attention_dropout = (KERAS_CONTENDERS[contender][3:] or (None,))[0]
    import keras

    if policy and policy != "matmul_bfloat16":
        keras.mixed_precision.set_global_policy(policy)
    sys.path.insert(0, REPO)
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.training import set_matmul_dtype_policy

    model = ReplacedTokenDetector.from_preset(
        "electra_small",
        max_predictions=max_predictions(seq_length),
        mask_token_id=MASK_ID,
        unselectable_token_ids=(0, 101, 102, MASK_ID),
        seed=0,
        **({} if attention_dropout is None
           else {"attention_dropout": attention_dropout}),
    )
    if policy == "matmul_bfloat16":
        set_matmul_dtype_policy(model, "mixed_bfloat16")
    compile_kwargs = {}
    if jit_compile is not None:
        compile_kwargs["jit_compile"] = jit_compile
    model.compile(learning_rate=LEARNING_RATE, **compile_kwargs)
    batch = random_batch(batch_size, seq_length)

    def step():
        logs = model.train_on_batch(batch, return_dict=True)
        return float(logs["loss"])

    info = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "jit_compile": model.jit_compile,
        "attention_dropout": (
            model.discriminator.backbone.attention_dropout
        ),
        "dtype_policy": (
            policy if policy == "matmul_bfloat16"
            else keras.mixed_precision.global_policy().name
        ),
    }
    info["parameters"] = lambda: int(model.count_params())
    return step, info


def build_tfm_step(batch_size, seq_length, policy=None):
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras

    if policy:
        # tf-models' own mixed-precision switch (tf_keras global policy).
        tf_keras.mixed_precision.set_global_policy(policy)
    from official.modeling import tf_utils
    from official.modeling.optimization import legacy_adamw
    from official.nlp.modeling import models
    from official.nlp.modeling import networks

    def encoder(config, embedding_layer=None):
        return networks.BertEncoder(
            vocab_size=VOCABULARY_SIZE,
            hidden_size=config["hidden"],
            num_layers=config["num_layers"],
            num_attention_heads=config["heads"],
            intermediate_size=config["intermediate"],
            activation=tf_utils.get_activation("gelu"),
            dropout_rate=0.1,
            attention_dropout_rate=0.1,
            max_sequence_length=MAX_POSITIONS,
            type_vocab_size=2,
            embedding_width=EMBEDDING_DIM,
            embedding_layer=embedding_layer,
            dict_outputs=True,
        )

    # As electra_task._build_pretrainer with tie_embeddings=True.
    discriminator = encoder(DISCRIMINATOR)
    generator = encoder(GENERATOR, discriminator.get_embedding_layer())
    model = models.ElectraPretrainer(
        generator_network=generator,
        discriminator_network=discriminator,
        vocab_size=VOCABULARY_SIZE,
        num_classes=2,
        num_token_predictions=max_predictions(seq_length),
        mlm_activation=tf_utils.get_activation("gelu"),
        mlm_initializer=tf_keras.initializers.TruncatedNormal(stddev=0.02),
    )
    optimizer = legacy_adamw.AdamWeightDecay(
        learning_rate=LEARNING_RATE,
        weight_decay_rate=0.01,
        epsilon=1e-6,
        exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"],
        gradient_clip_norm=1.0,
    )
    metrics = {
        "masked_lm_accuracy": tf_keras.metrics.SparseCategoricalAccuracy(),
        "lm_example_loss": tf_keras.metrics.Mean(),
        "discriminator_accuracy": tf_keras.metrics.SparseCategoricalAccuracy(),
        "discriminator_loss": tf_keras.metrics.Mean(),
        "total_loss": tf_keras.metrics.Mean(),
    }
    inputs = {
        k: tf.constant(v)
        for k, v in premasked_batch(batch_size, seq_length).items()
    }

    @tf.function
    def train_step(inputs):
        # ElectraPretrainTask.train_step / build_losses / process_metrics
        # (without the next-sentence head, which ELECTRA does not use).
        with tf.GradientTape() as tape:
            outputs = model(inputs, training=True)
            lm_losses = tf_keras.losses.sparse_categorical_crossentropy(
                inputs["masked_lm_ids"],
                tf.cast(outputs["lm_outputs"], tf.float32),
                from_logits=True,
            )
            weights = inputs["masked_lm_weights"]
            mlm_loss = tf.math.divide_no_nan(
                tf.reduce_sum(lm_losses * weights), tf.reduce_sum(weights)
            )
            rtd_labels = tf.cast(outputs["disc_label"], tf.float32)
            input_mask = tf.cast(inputs["input_mask"], tf.float32)
            rtd_losses = tf.nn.sigmoid_cross_entropy_with_logits(
                logits=outputs["disc_logits"], labels=rtd_labels
            )
            rtd_loss = tf.math.divide_no_nan(
                tf.reduce_sum(input_mask * rtd_losses),
                tf.reduce_sum(input_mask),
            )
            loss = mlm_loss + DISCRIMINATOR_LOSS_WEIGHT * rtd_loss
            if model.losses:
                loss += tf.add_n(model.losses)
        variables = model.trainable_variables
        grads = tape.gradient(loss, variables)
        # The unused next-sentence head and poolers get no gradient.
        optimizer.apply_gradients(
            [(g, v) for g, v in zip(grads, variables) if g is not None]
        )
        metrics["lm_example_loss"].update_state(mlm_loss)
        metrics["discriminator_loss"].update_state(rtd_loss)
        metrics["total_loss"].update_state(loss)
        metrics["masked_lm_accuracy"].update_state(
            inputs["masked_lm_ids"], outputs["lm_outputs"], weights
        )
        disc_logits = tf.expand_dims(outputs["disc_logits"], -1)
        metrics["discriminator_accuracy"].update_state(
            outputs["disc_label"],
            tf.concat([-disc_logits, disc_logits], -1),
            inputs["input_mask"],
        )
        return loss

    def step():
        return float(train_step(inputs))

    info = {
        "tensorflow": tf.__version__,
        "tf_keras": tf_keras.__version__,
        "parameters": lambda: int(model.count_params()),
    }
    return step, info


def build_hf_step(batch_size, seq_length, autocast=False,
                  attention_dropout=0.1):
    import contextlib

    import torch
    import transformers
    from transformers import ElectraConfig
    from transformers import ElectraForMaskedLM
    from transformers import ElectraForPreTraining

    torch.set_num_threads(2)
    torch.manual_seed(0)
    common = dict(
        vocab_size=VOCABULARY_SIZE,
        embedding_size=EMBEDDING_DIM,
        max_position_embeddings=MAX_POSITIONS,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=attention_dropout,
    )
    discriminator = ElectraForPreTraining(
        ElectraConfig(
            hidden_size=DISCRIMINATOR["hidden"],
            num_hidden_layers=DISCRIMINATOR["num_layers"],
            num_attention_heads=DISCRIMINATOR["heads"],
            intermediate_size=DISCRIMINATOR["intermediate"],
            **common,
        )
    )
    generator = ElectraForMaskedLM(
        ElectraConfig(
            hidden_size=GENERATOR["hidden"],
            num_hidden_layers=GENERATOR["num_layers"],
            num_attention_heads=GENERATOR["heads"],
            intermediate_size=GENERATOR["intermediate"],
            **common,
        )
    )
    # Share the embedding block; re-tie the MLM output projection to it.
    generator.electra.embeddings = discriminator.electra.embeddings
    generator.generator_lm_head.weight = (
        discriminator.electra.embeddings.word_embeddings.weight
    )
    generator.train()
    discriminator.train()
    parameters = {id(p): p for p in generator.parameters()}
    parameters.update({id(p): p for p in discriminator.parameters()})
    parameters = list(parameters.values())
    decay = [p for p in parameters if p.ndim > 1]
    no_decay = [p for p in parameters if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": 0.01},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=LEARNING_RATE,
        eps=1e-6,
    )
    batch = random_batch(batch_size, seq_length)
    token_ids = torch.from_numpy(batch["token_ids"]).long()
    segment_ids = torch.from_numpy(batch["segment_ids"]).long()
    attention_mask = torch.from_numpy(batch["padding_mask"]).long()
    special = (token_ids == 101) | (token_ids == 102)

    def step():
        # bfloat16 autocast (matrix products in bfloat16, the rest float32).
        precision = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if autocast else contextlib.nullcontext()
        )
        with precision:
            return _hf_step_body()

    def _hf_step_body():
        # 15% of the non-special tokens, 85% of those replaced by [MASK].
        probability = torch.full(token_ids.shape, MASK_RATE)
        probability.masked_fill_(special, 0.0)
        selected = torch.bernoulli(probability).bool()
        use_mask = selected & (torch.rand(token_ids.shape) < 0.85)
        masked_ids = token_ids.masked_fill(use_mask, MASK_ID)
        labels = token_ids.masked_fill(~selected, -100)
        generated = generator(
            input_ids=masked_ids,
            attention_mask=attention_mask,
            token_type_ids=segment_ids,
            labels=labels,
        )
        with torch.no_grad():
            logits = generated.logits[selected].float()
            uniform = torch.rand_like(logits).clamp_(1e-9, 1.0)
            sampled = (logits - torch.log(-torch.log(uniform))).argmax(-1)
            corrupted = token_ids.clone()
            corrupted[selected] = sampled
            replaced = (corrupted != token_ids).float()
        discriminated = discriminator(
            input_ids=corrupted,
            attention_mask=attention_mask,
            token_type_ids=segment_ids,
            labels=replaced,
        )
        loss = generated.loss + DISCRIMINATOR_LOSS_WEIGHT * discriminated.loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        return float(loss.detach())

    info = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torch_threads": torch.get_num_threads(),
        "attention": generator.config._attn_implementation,
        "autocast": "bfloat16" if autocast else None,
        "parameters": sum(p.numel() for p in parameters),
    }
    return step, info


# ---------------------------------------------------------------------------
# Worker process
# ---------------------------------------------------------------------------


def send(message):
    sys.stdout.write(MESSAGE_PREFIX + json.dumps(message) + "\n")
    sys.stdout.flush()


def worker(args):
    started = time.perf_counter()
    if args.contender in ("tfm", "tfm-bf16"):
        step, info = build_tfm_step(
            args.batch_size, args.seq_length,
            policy="mixed_bfloat16" if args.contender == "tfm-bf16" else None,
        )
    elif args.contender in ("hf-torch", "hf-torch-bf16", "hf-torch-ad0"):
        step, info = build_hf_step(
            args.batch_size, args.seq_length,
            autocast=args.contender == "hf-torch-bf16",
            attention_dropout=0.0 if args.contender == "hf-torch-ad0" else 0.1,
        )
    else:
        step, info = build_keras_step(
            args.contender, args.batch_size, args.seq_length
        )
    warmup_times = []
    for _ in range(args.warmup):
        begin = time.perf_counter()
        loss = step()
        warmup_times.append(time.perf_counter() - begin)
    # Counted after the first steps: the models are built lazily.
    info = {k: v() if callable(v) else v for k, v in info.items()}
    info.update(
        setup_seconds=time.perf_counter() - started,
        warmup_step_seconds=warmup_times,
        warmup_loss=loss if args.warmup else None,
    )
    send({"ready": info})
    # Block on stdin (no CPU use) until told to run a timed block.
    for line in sys.stdin:
        command = line.strip()
        if command == "exit":
            break
        steps = int(command)
        times = []
        for _ in range(steps):
            begin = time.perf_counter()
            loss = step()
            times.append(time.perf_counter() - begin)
        send({"times": times, "loss": loss})


# ---------------------------------------------------------------------------
# Parent process
# ---------------------------------------------------------------------------


class Worker:
    def __init__(self, contender, args):
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if contender in KERAS_CONTENDERS:
            env["KERAS_BACKEND"] = KERAS_CONTENDERS[contender][0]
        if contender in ("tfm", "tfm-bf16"):
            env["TF_USE_LEGACY_KERAS"] = "1"
        self.contender = contender
        self.stderr_path = os.path.join(
            args.log_dir, f"train_step_{contender}.log"
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--worker",
                contender,
                "--batch-size",
                str(args.batch_size),
                "--seq-length",
                str(args.seq_length),
                "--warmup",
                str(args.warmup),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(self.stderr_path, "w"),
            env=env,
            text=True,
            cwd=REPO,
        )

    def receive(self):
        for line in self.process.stdout:
            if line.startswith(MESSAGE_PREFIX):
                return json.loads(line[len(MESSAGE_PREFIX):])
        raise RuntimeError(
            f"{self.contender} worker exited with code "
            f"{self.process.wait()}; see {self.stderr_path}"
        )

    def run(self, steps):
        self.process.stdin.write(f"{steps}\n")
        self.process.stdin.flush()
        return self.receive()

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("exit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=60)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()


def quartiles(values):
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.platform()}"


def parent(args):
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(contenders) - set(ALL_CONTENDERS))
    if unknown:
        raise SystemExit(
            f"Unknown contenders {unknown}; choose from {ALL_CONTENDERS}."
        )
    os.makedirs(args.log_dir, exist_ok=True)
    tokens = args.batch_size * args.seq_length
    print(
        f"ELECTRA-Small RTD step, batch {args.batch_size} x sequence "
        f"{args.seq_length} ({tokens} tokens); warmup {args.warmup}, "
        f"{args.rounds} rounds x {args.steps} steps; {machine_description()}",
        flush=True,
    )
    workers, infos, times, failures, starting = {}, {}, {}, {}, {}
    started = time.perf_counter()
    try:
        # Workers are built and warmed up one after the other (on a small,
        # shared machine parallel start-up mostly adds thrashing); timed
        # blocks below also run one worker at a time.
        for contender in contenders:
            worker_process = starting[contender] = Worker(contender, args)
            try:
                infos[contender] = worker_process.receive()["ready"]
            except RuntimeError as error:
                failures[contender] = str(error)
                print(f"  {contender}: FAILED ({error})", flush=True)
                continue
            workers[contender] = worker_process
            times[contender] = []
            warm = infos[contender]["warmup_step_seconds"]
            print(
                f"  {contender}: ready after "
                f"{infos[contender]['setup_seconds']:.1f}s (last warmup step "
                f"{warm[-1] if warm else float('nan'):.3f}s)",
                flush=True,
            )
        order = list(workers)
        for round_index in range(args.rounds):
            shift = round_index % max(1, len(order))
            for contender in order[shift:] + order[:shift]:
                if contender in failures:
                    continue
                try:
                    block = workers[contender].run(args.steps)["times"]
                except RuntimeError as error:
                    failures[contender] = str(error)
                    continue
                times[contender] += block
                print(
                    f"  round {round_index + 1}/{args.rounds} {contender}: "
                    + ", ".join(f"{t:.3f}s" for t in block),
                    flush=True,
                )
    finally:
        for worker_process in starting.values():
            worker_process.close()

    rows = []
    for contender in [c for c in workers if times[c]]:
        q1, median, q3 = quartiles(times[contender])
        rows.append(
            {
                "contender": contender,
                "median_step_seconds": median,
                "tokens_per_second": tokens / median,
                "iqr_fraction": (q3 - q1) / median,
                "steps": len(times[contender]),
                "info": infos[contender],
            }
        )
    print()
    print(f"{'contender':<18} {'step (ms)':>10} {'tokens/s':>10} "
          f"{'IQR/med':>8} {'vs best peer':>13}")
    peers = [r for r in rows if r["contender"] in PEER_CONTENDERS]
    best_peer = max(peers, key=lambda r: r["tokens_per_second"], default=None)
    for row in rows:
        relative = (
            f"{row['tokens_per_second'] / best_peer['tokens_per_second']:.2f}x"
            if best_peer
            else "-"
        )
        print(
            f"{row['contender']:<18} {1000 * row['median_step_seconds']:>10.1f}"
            f" {row['tokens_per_second']:>10.0f} "
            f"{100 * row['iqr_fraction']:>7.1f}% {relative:>13}"
        )
    ours = [r for r in rows if r["contender"] in KERAS_CONTENDERS]
    summary = {}
    if ours and best_peer:
        # The headline ratio uses float32 rows only, as the peers do.
        fp32 = [r for r in ours if not KERAS_CONTENDERS[r["contender"]][2]]
        best_ours = max(fp32 or ours, key=lambda r: r["tokens_per_second"])
        ratio = best_ours["tokens_per_second"] / best_peer["tokens_per_second"]
        summary = {
            "fastest_keras_electra": best_ours["contender"],
            "fastest_peer": best_peer["contender"],
            "ratio": ratio,
        }
        print(
            f"\nfastest keras_electra ({best_ours['contender']}) / fastest "
            f"peer ({best_peer['contender']}): {ratio:.2f}x"
        )
        # Any precision on both sides (bfloat16 rows included).
        best_any = max(ours, key=lambda r: r["tokens_per_second"])
        if best_any is not best_ours:
            summary["fastest_keras_electra_any_precision"] = (
                best_any["contender"]
            )
            summary["ratio_any_precision"] = (
                best_any["tokens_per_second"] / best_peer["tokens_per_second"]
            )
            print(
                f"fastest keras_electra in any precision "
                f"({best_any['contender']}) / fastest peer "
                f"({best_peer['contender']}): "
                f"{summary['ratio_any_precision']:.2f}x"
            )
    for contender, error in failures.items():
        print(f"{contender}: failed: {error}")
    print(f"total wall time {time.perf_counter() - started:.0f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "date": datetime.datetime.now(datetime.timezone.utc)
                    .isoformat(timespec="seconds"),
                    "machine": machine_description(),
                    "command": " ".join([os.path.basename(sys.executable)]
                                        + sys.argv),
                    "batch_size": args.batch_size,
                    "seq_length": args.seq_length,
                    "warmup": args.warmup,
                    "steps": args.steps,
                    "rounds": args.rounds,
                    "rows": rows,
                    "summary": summary,
                    "failures": failures,
                    "raw_step_seconds": times,
                },
                f,
                indent=2,
            )
    return 1 if failures else 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS),
                        help="comma-separated, from: "
                        + ", ".join(ALL_CONTENDERS))
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per contender per round "
                        "(default 2)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps after building (default 2)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default 32 (8 with --quick)")
    parser.add_argument("--seq-length", type=int, default=None,
                        help="default 128 (64 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: small batch, few steps")
    parser.add_argument("--json", default=None,
                        help="also write the results to this JSON file")
    parser.add_argument("--log-dir", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "keras_electra_bench"),
        help="where each worker's stderr goes")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = dict(steps=(2, 2), rounds=(1, 3), warmup=(2, 2),
                    batch_size=(8, 32), seq_length=(64, 128))
    for name, (quick_value, full_value) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick_value if quick else full_value)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        args.contender = args.worker
        worker(args)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
