"""keras_electra: ELECTRA pre-training, fine-tuning and export for Keras 3."""

from keras_electra.version import __version__  # noqa: E402,F401

from keras_electra import layers  # noqa: E402
from keras_electra import models  # noqa: E402
# Registers the Hugging Face and keras-hub folder readers of `from_preset`.
from keras_electra import convert  # noqa: E402,F401
from keras_electra.models import ElectraBackbone  # noqa: E402
from keras_electra.models import ElectraDiscriminator  # noqa: E402
from keras_electra.models import ElectraGenerator  # noqa: E402
from keras_electra.models import ReplacedTokenDetector  # noqa: E402
