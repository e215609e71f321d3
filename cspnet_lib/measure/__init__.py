"""Measuring built models: what the closed form of ``plan.py`` predicts, checked on real modules.

- ``hooks``: ``check_module``, the ``model_mode`` context manager, ``run_with_hooks``;
- ``flops``: parameters and FLOPs (``FlopCounterMode``), bare conv weights;
- ``trace``: ``shape_trace``, the channels and size each step hands on, and ``plan_steps``,
  which module is which step;
- ``cio``: memory traffic (CIO) with forward hooks;
- ``gradients``: the gradient at a dense block's input, split by path, and batch norms
  recalibrated for measuring;
- ``path_summary``: three numbers for one split (how alike the paths are, the bypass's share);
- ``residual_paths``: the same split at a residual stack's input (chapter 1's control);
- ``instruments``: chapter 6's time by layer type and saved activation bytes;
- ``roles``: a residual network's FLOPs and CIO by the role of each convolution.

May import: ``torch``, ``cspnet_lib.models`` and the torch-free core.
"""

from .cio import cio_by_module, measure_cio
from .flops import count_conv_weights, count_model_params, measure_flops
from .gradients import (PROBES, PathGradients, block_input, check_images_and_targets,
                        cosine_matrix, dense_blocks, mean_similarity, network_path_gradients,
                        path_gradients, recalibrate_batchnorm)
from .hooks import check_module, model_mode, run_with_hooks
from .instruments import saved_activation_bytes, time_by_layer
from .path_summary import PathSummary, path_summary
from .residual_paths import residual_path_gradients, residual_stacks
from .roles import ROLES, cio_by_role, flops_by_role, roles
from .trace import TraceRow, plan_steps, shape_trace, trace_as

__all__ = [
    "PROBES", "PathGradients", "ROLES", "TraceRow", "block_input", "check_module", "cio_by_module",
    "cio_by_role", "cosine_matrix", "count_conv_weights", "count_model_params", "dense_blocks",
    "flops_by_role", "mean_similarity", "measure_cio", "measure_flops", "model_mode",
    "network_path_gradients", "path_gradients", "roles", "run_with_hooks",
    "saved_activation_bytes", "shape_trace", "time_by_layer", "plan_steps", "trace_as",
    "check_images_and_targets", "PathSummary", "path_summary",
    "recalibrate_batchnorm", "residual_path_gradients", "residual_stacks",
]
