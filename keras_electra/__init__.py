"""keras_electra: ELECTRA pre-training, fine-tuning and export for Keras 3."""

__version__ = "0.1.0"

from keras_electra import layers  # noqa: E402
from keras_electra import models  # noqa: E402
from keras_electra.models import ElectraBackbone  # noqa: E402
from keras_electra.models import ElectraDiscriminator  # noqa: E402
from keras_electra.models import ElectraGenerator  # noqa: E402
from keras_electra.models import ReplacedTokenDetector  # noqa: E402
