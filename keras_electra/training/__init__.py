"""Training utilities: backups, callbacks, distribution, the pre-training
loop. The optimizers (`keras_electra.optimizers`) are re-exported here."""

from keras_electra.optimizers.electra_optimizer import electra_optimizer
from keras_electra.optimizers.schedules import LinearWarmupLinearDecay
from keras_electra.training.callbacks import BackupError
from keras_electra.training.callbacks import StepBackup
from keras_electra.training.callbacks import TensorBoardScalars
from keras_electra.training.callbacks import latest_backup
from keras_electra.training.callbacks import prune_backups
from keras_electra.training.callbacks import read_backup_state
from keras_electra.training.callbacks import restore_backup
from keras_electra.training.callbacks import write_backup
from keras_electra.training.distribution import build_in_scope
from keras_electra.training.distribution import clip_after_all_reduce
from keras_electra.training.distribution import configure_logical_cpus
from keras_electra.training.distribution import distribute_dataset
from keras_electra.training.distribution import distribution_scope
from keras_electra.training.distribution import get_strategy
from keras_electra.training.distribution import is_multi_worker
from keras_electra.training.distribution import num_replicas
from keras_electra.training.distribution import workers_minimum
from keras_electra.training.pretrain import dataset_at
from keras_electra.training.pretrain import load_initial_weights
from keras_electra.training.pretrain import pretrain
from keras_electra.training.run_lock import RunFolderLocked
from keras_electra.training.run_lock import RunLock
from keras_electra.optimizers.layerwise_decay import FINE_TUNING_PRESETS
from keras_electra.optimizers.layerwise_decay import LayerwiseAdamW
from keras_electra.optimizers.layerwise_decay import fine_tuning_optimizer
from keras_electra.optimizers.layerwise_decay import (
    layerwise_learning_rate_multipliers,
)
from keras_electra.training.flops import encoder_flops
from keras_electra.training.flops import masked_lm_head_flops
from keras_electra.training.flops import pretraining_flops_per_example
from keras_electra.training.precision import Float32Activation
from keras_electra.training.precision import set_matmul_dtype_policy
