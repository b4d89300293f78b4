"""Text -> batches: tokenizer, pre-training pipeline, TFRecords, preprocessors.

TensorFlow and tf-text are used here (and only in the data, export and
distribution code), never in `keras_electra.layers` or `keras_electra.models`.
"""

from keras_electra.data.corpus_report import CorpusReport
from keras_electra.data.datasets import BBC_NEWS_LABELS
from keras_electra.data.datasets import ROTTEN_TOMATOES_LABELS
from keras_electra.data.datasets import bundled_corpus_files
from keras_electra.data.datasets import bundled_vocabulary_file
from keras_electra.data.datasets import load_bbc_news
from keras_electra.data.datasets import load_rotten_tomatoes
from keras_electra.data.electra_classifier_preprocessor import (
    ElectraClassifierPreprocessor,
)
from keras_electra.data.electra_pretraining_preprocessor import (
    ElectraPretrainingPreprocessor,
)
from keras_electra.data.electra_question_answering_preprocessor import (
    ElectraQuestionAnsweringPreprocessor,
)
from keras_electra.data.electra_token_classifier_preprocessor import (
    ElectraTokenClassifierPreprocessor,
)
from keras_electra.data.electra_tokenizer import SPECIAL_TOKENS
from keras_electra.data.electra_tokenizer import ElectraTokenizer
from keras_electra.data.pretraining_dataset import SegmentPacker
from keras_electra.data.pretraining_dataset import pretraining_dataset
from keras_electra.data.text_files import resolve_files
from keras_electra.data.splits import check_split
from keras_electra.data.splits import load_split
from keras_electra.data.splits import save_split
from keras_electra.data.splits import split_record
from keras_electra.data.tfrecords import prepare_tfrecords
from keras_electra.data.tfrecords import tfrecord_dataset
from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.data.tokenizer_config import read_tokenizer_settings
from keras_electra.data.tokenizer_config import save_tokenizer_files
from keras_electra.data.tokenizer_config import tokenizer_from_vocabulary
from keras_electra.data.tokenizer_config import write_tokenizer_config
from keras_electra.data.train_vocabulary import train_vocabulary
from keras_electra.data.unigram_prior import unigram_log_prior

__all__ = [
    "BBC_NEWS_LABELS",
    "ROTTEN_TOMATOES_LABELS",
    "SPECIAL_TOKENS",
    "CorpusReport",
    "ElectraClassifierPreprocessor",
    "ElectraPretrainingPreprocessor",
    "ElectraQuestionAnsweringPreprocessor",
    "ElectraTokenClassifierPreprocessor",
    "ElectraTokenizer",
    "SegmentPacker",
    "bundled_corpus_files",
    "check_split",
    "bundled_vocabulary_file",
    "load_bbc_news",
    "load_rotten_tomatoes",
    "load_split",
    "load_tokenizer",
    "pretraining_dataset",
    "prepare_tfrecords",
    "read_tokenizer_settings",
    "save_split",
    "save_tokenizer_files",
    "split_record",
    "resolve_files",
    "tfrecord_dataset",
    "tokenizer_from_vocabulary",
    "train_vocabulary",
    "unigram_log_prior",
    "write_tokenizer_config",
]
