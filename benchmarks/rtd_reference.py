"""Our ELECTRA training step against one built from Hugging Face modules.

Why
---
At the CPU budget of ``electra_vs_mlm.py`` the discriminator stays at the
base rate (AUC ~0.5). That is either a property of the setting (too little
compute) or a defect of ``ReplacedTokenDetector``. This script tells the
two apart: it trains, on the same batches of the same corpus and with the
same recipe, (a) ``keras_electra.workflows.run_pretraining`` and (b) an
ELECTRA assembled from ``transformers``' ``ElectraForMaskedLM`` (generator)
and ``ElectraForPreTraining`` (discriminator) in PyTorch, written here from
the paper's description, and prints both learning curves side by side.

Recipe shared by both (the original code's choices): ``electra_tiny``
sizes (discriminator 4 x 128, generator 4 x 32, embeddings 128, tied
token/position/segment tables), 15% of the real tokens selected (85%
``[MASK]``, 15% unchanged), replacements drawn from the generator's softmax
(Gumbel-max, no gradient), loss = masked-LM cross-entropy + 50 x binary
cross-entropy over all real tokens, AdamW (peak ``--learning-rate``, 10%
warm-up, linear decay, weight decay 0.01 except biases and LayerNorm,
epsilon 1e-6), gradient norm clipped to 1, masked-LM bias starting at 0.

The reference differs where Hugging Face's modules do: normal (not
truncated normal) initialization, the ``[PAD]`` row of the token table is
made trainable (``padding_idx`` would freeze it at zero; a generator could
then sample ``[PAD]``, which the discriminator detects trivially), and
positions are drawn independently per token (ours fill a fixed number of
prediction slots).

Command (the one behind benchmarks/RESULTS.md)::

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/rtd_reference.py \\
        --steps 300 --output runs/rtd_reference.json

Needs ``pip install -e ".[torch,compare]"`` (torch and transformers).
"""

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

METRICS = ("generator_loss", "generator_accuracy", "discriminator_loss",
           "discriminator_auc", "replaced_fraction")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="runs/rtd_reference.json")
    return parser.parse_args(argv)


def batches(args, tokenizer):
    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import pretraining_dataset

    return pretraining_dataset(
        bundled_corpus_files(), tokenizer,
        sequence_length=args.sequence_length, batch_size=args.batch_size,
        seed=args.seed, repeat=True, shuffle_buffer=2000,
    ).as_numpy_iterator()


def run_keras(args, vocabulary, work_dir):
    from keras_electra.workflows import run_pretraining
    from keras_electra.data import bundled_corpus_files

    started = time.time()
    result = run_pretraining(
        bundled_corpus_files(), work_dir, vocabulary=vocabulary,
        preset="electra_tiny", steps=args.steps, batch_size=args.batch_size,
        sequence_length=args.sequence_length,
        learning_rate=args.learning_rate, seed=args.seed,
        backup_every=args.steps, steps_per_epoch=args.log_every,
        output_bias="zero", verbose=0,
    )
    history = result["history"]
    curve = []
    for i in range(len(history["loss"])):
        curve.append({"step": (i + 1) * args.log_every,
                      **{k: float(history[k][i]) for k in METRICS}})
    return {"curve": curve, "seconds": time.time() - started}


def run_reference(args, tokenizer):
    import keras
    import torch
    from transformers import ElectraConfig
    from transformers import ElectraForMaskedLM
    from transformers import ElectraForPreTraining

    from keras_electra.models.electra_presets import PRESETS
    from keras_electra.workflows import special_token_ids

    torch.manual_seed(args.seed)
    sizes = PRESETS["electra_tiny"]

    def config(role):
        c = sizes[role]
        return ElectraConfig(
            vocab_size=tokenizer.vocabulary_size(),
            embedding_size=c["embedding_dim"], hidden_size=c["hidden_dim"],
            num_hidden_layers=c["num_layers"],
            num_attention_heads=c["num_heads"],
            intermediate_size=c["intermediate_dim"],
            max_position_embeddings=max(args.sequence_length, 128),
            type_vocab_size=2, pad_token_id=tokenizer.pad_token_id,
        )

    discriminator = ElectraForPreTraining(config("discriminator"))
    generator = ElectraForMaskedLM(config("generator"))
    embeddings = discriminator.electra.embeddings
    generator.electra.embeddings = embeddings
    generator.generator_lm_head.weight = embeddings.word_embeddings.weight
    embeddings.word_embeddings.padding_idx = None
    with torch.no_grad():
        embeddings.word_embeddings.weight[tokenizer.pad_token_id].normal_(
            0.0, 0.02)
        generator.generator_lm_head.bias.zero_()

    # The shared embedding block appears in both modules: count it once.
    parameters = list({
        id(p): p
        for p in [*generator.parameters(), *discriminator.parameters()]
    }.values())
    decay = [p for p in parameters if p.ndim >= 2]
    no_decay = [p for p in parameters if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.learning_rate, eps=1e-6,
    )
    warmup = max(1, args.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (s + 1) / warmup if s < warmup
        else max(0.0, (args.steps - s) / (args.steps - warmup)),
    )
    special = torch.tensor(special_token_ids(tokenizer))
    data = batches(args, tokenizer)
    # The metric `ReplacedTokenDetector` logs, so both curves use one estimator.
    auc = keras.metrics.AUC()
    logs, curve = {k: [] for k in ("g", "ga", "d", "y")}, []
    started = time.time()
    generator.train()
    discriminator.train()
    for step in range(1, args.steps + 1):
        batch = next(data)
        ids = torch.as_tensor(batch["token_ids"], dtype=torch.long)
        segments = torch.as_tensor(batch["segment_ids"], dtype=torch.long)
        real = torch.as_tensor(batch["padding_mask"], dtype=torch.long)
        selectable = real.bool() & ~torch.isin(ids, special)
        selected = selectable & (torch.rand(ids.shape) < 0.15)
        masked = ids.clone()
        masked[selected & (torch.rand(ids.shape) < 0.85)] = (
            tokenizer.mask_token_id)
        logits = generator(input_ids=masked, token_type_ids=segments,
                           attention_mask=real).logits[selected]
        generator_loss = torch.nn.functional.cross_entropy(
            logits, ids[selected])
        with torch.no_grad():
            uniform = torch.rand_like(logits).clamp(1e-9, 1.0)
            samples = (logits - torch.log(-torch.log(uniform))).argmax(-1)
        corrupted = ids.clone()
        corrupted[selected] = samples
        labels = ((corrupted != ids) & real.bool()).float()
        scores = discriminator(input_ids=corrupted, token_type_ids=segments,
                               attention_mask=real).logits
        weights = real.float()
        discriminator_loss = (
            torch.nn.functional.binary_cross_entropy_with_logits(
                scores, labels, reduction="none") * weights
        ).sum() / weights.sum()
        loss = generator_loss + 50.0 * discriminator_loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
        keep = real.bool().numpy()
        logs["g"].append(generator_loss.item())
        logs["ga"].append(
            (logits.argmax(-1) == ids[selected]).float().mean().item())
        logs["d"].append(discriminator_loss.item())
        logs["y"].append(labels.numpy()[keep])
        auc.update_state(
            logs["y"][-1], torch.sigmoid(scores).detach().numpy()[keep]
        )
        if step % args.log_every == 0:
            curve.append({
                "step": step,
                "generator_loss": float(np.mean(logs["g"])),
                "generator_accuracy": float(np.mean(logs["ga"])),
                "discriminator_loss": float(np.mean(logs["d"])),
                "discriminator_auc": float(auc.result()),
                "replaced_fraction": float(np.concatenate(logs["y"]).mean()),
            })
            logs = {k: [] for k in logs}
            auc.reset_state()
    return {"curve": curve, "seconds": time.time() - started}


def main(argv=None):
    import tempfile

    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import bundled_vocabulary_file

    args = parse_args(argv)
    vocabulary = bundled_vocabulary_file()
    tokenizer = ElectraTokenizer(vocabulary=vocabulary)
    results = {"settings": vars(args)}
    with tempfile.TemporaryDirectory() as work_dir:
        results["keras_electra"] = run_keras(args, vocabulary, work_dir)
    results["hf_modules"] = run_reference(args, tokenizer)
    folder = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(results, f, indent=2)
    print("| step | " + " | ".join(
        f"{m} (ours / HF modules)" for m in METRICS) + " |")
    print("|---:|" + "---:|" * len(METRICS))
    for ours, reference in zip(results["keras_electra"]["curve"],
                               results["hf_modules"]["curve"]):
        print(f"| {ours['step']} | " + " | ".join(
            f"{ours[m]:.4f} / {reference[m]:.4f}" for m in METRICS) + " |")


if __name__ == "__main__":
    main()
