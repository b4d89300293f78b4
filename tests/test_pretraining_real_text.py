"""ELECTRA learns replaced-token detection on real English text.

A tiny generator/discriminator pair is pre-trained for 300 steps (16 x 64
tokens) on the bundled public-domain corpus (Moby-Dick, State of the Union)
and evaluated on held-out batches. The all-original baseline predicts
"original" everywhere with the true replaced rate `p`; its log loss is the
binary entropy `H(p)`. The discriminator must beat it: lower log loss than
`H(p)` and an AUC well above chance. (Accuracy barely moves from the
`1 - p` baseline this early: the model ranks replaced tokens above originals
long before it is confident enough to call one replaced.)
"""

import os

import keras
import numpy as np
import pytest

from keras_electra.data import ElectraTokenizer
from keras_electra.data import bundled_corpus_files
from keras_electra.data import pretraining_dataset
from keras_electra.data.datasets import CORPUS_DIR
from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import ReplacedTokenDetector

pytestmark = pytest.mark.multibackend

STEPS, HELD_OUT, BATCH, LENGTH = 300, 16, 16, 64


@pytest.mark.slow
def test_discriminator_beats_the_all_original_baseline():
    tokenizer = ElectraTokenizer(vocabulary=os.path.join(CORPUS_DIR, "vocab.txt"))
    batches = pretraining_dataset(
        bundled_corpus_files(), tokenizer, sequence_length=LENGTH,
        batch_size=BATCH, seed=0, repeat=True, shuffle_buffer=1000,
    ).take(STEPS + HELD_OUT)
    batches = [{k: v.numpy() for k, v in b.items()} for b in batches]
    train = {k: np.concatenate([b[k] for b in batches[:STEPS]]) for k in batches[0]}
    held = {k: np.concatenate([b[k] for b in batches[STEPS:]]) for k in batches[0]}
    assert (train["padding_mask"].sum() / train["padding_mask"].size) > 0.8

    keras.utils.set_random_seed(0)
    common = dict(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2,
        embedding_dim=64, max_sequence_length=LENGTH, dropout=0.0,
    )
    discriminator = ElectraDiscriminator(
        ElectraBackbone(num_heads=2, hidden_dim=64, intermediate_dim=256, **common)
    )
    generator = ElectraGenerator(
        ElectraBackbone(num_heads=1, hidden_dim=32, intermediate_dim=128, **common)
    )
    rtd = ReplacedTokenDetector(
        generator, discriminator, seed=0,
        mask_token_id=tokenizer.mask_token_id,
        unselectable_token_ids=[
            tokenizer.pad_token_id, tokenizer.cls_token_id,
            tokenizer.sep_token_id, tokenizer.mask_token_id,
        ],
    )
    rtd.compile(learning_rate=2e-3, warmup_steps=30, train_steps=STEPS)
    history = rtd.fit(train, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    logs = rtd.evaluate(held, batch_size=BATCH, verbose=0, return_dict=True)

    p = logs["replaced_fraction"]
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert 0.10 < p < 0.16, logs
    assert logs["discriminator_loss"] < 0.985 * entropy, (logs, entropy)
    assert logs["discriminator_auc"] > 0.57, logs
    assert logs["discriminator_accuracy"] >= (1 - p) - 0.005, logs
    assert logs["generator_loss"] < 0.8 * np.log(tokenizer.vocabulary_size()), logs
    assert history.history["loss"][0] > logs["loss"]
