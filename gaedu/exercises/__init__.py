"""Auto-checkers for the book's exercises: one ``check_<name>(answer)`` each.

A checker answers in one of three ways:

* right answer: prints one short line starting with ``✓`` and returns ``None``;
* wrong answer: raises :class:`ExerciseFeedback` (an ``AssertionError``) whose
  message is a hint that helps without giving the solution away;
* answer of the wrong kind (``None``, a wrong shape, a function that raises):
  the same, with a hint about the kind of answer expected.

In Jupyter the feedback shows as one line, not as a traceback. Each checker
computes the expected answer with ``gaedu`` itself, so the book and the
package cannot drift apart.

The checkers of each chapter live in the module named after its notebook
(:mod:`gaedu.exercises.gradient_ascent` for ``book/algorithm/gradient-ascent.ipynb``),
together with that chapter's data and objectives; the shared feedback mechanism is in
:mod:`gaedu.exercises._feedback`. Everything public is re-exported here, so notebooks
import from ``gaedu.exercises`` directly. Importing it does no work: data are loaded and
models trained only when a checker runs.
"""

from gaedu.exercises._feedback import ExerciseFeedback
from gaedu.exercises.ascent_in_practice import (
    BOX,
    MINIBATCH_SIZE,
    NOISY_LR,
    NOISY_STD,
    NOISY_STEPS,
    SPREAD_SEEDS,
    check_minibatch_mse,
    check_newton_step,
    check_projected_step,
    check_seed_spread,
    minibatch_problem,
    noisy_ascent,
    noisy_quadratic,
)
from gaedu.exercises.conv_gan import (
    CONV_CASES,
    POWER_STEPS,
    TRANSPOSED_CASES,
    check_conv_parameters,
    check_nearest_distances,
    check_spectral_norm,
    check_transposed_size,
)
from gaedu.exercises.core_concepts import (
    bowl_objective,
    check_negated_objective,
    check_psnr_mae_pair,
    check_supergradient,
)
from gaedu.exercises.faq import DESCENT_LR, DESCENT_MOMENTUM, DESCENT_STEPS, check_descent_loss, faq_log_likelihood
from gaedu.exercises.gan_game import (
    COLLAPSED_HISTOGRAM,
    DIRAC_LR,
    DIRAC_START,
    DIRAC_STEPS,
    RADIUS_LR,
    RADIUS_START,
    RADIUS_STEPS,
    check_discriminator_step,
    check_extragradient_factor,
    check_frechet_distance,
    check_jacobian_norms,
    check_missing_classes,
    check_r1_penalty,
    check_simultaneous_radius,
)
from gaedu.exercises.generation_and_reconstruction import (
    TASKS,
    check_left_half_mask,
    check_mean_digit,
    check_task_kinds,
)
from gaedu.exercises.gradient_ascent import (
    BEST_LR_GRID,
    EXERCISE_START,
    LEMMA_REDUCTION,
    MOMENTUM_VALUES,
    check_ascent_step,
    check_best_constant_lr,
    check_lemma_steps,
    check_max_stable_lr,
    check_momentum_steps,
    check_overshoot_rates,
    stability_quadratic,
)
from gaedu.exercises.image_space_ascent import (
    PIXEL_TARGETS,
    REGULARIZATION_AGREEMENT,
    REGULARIZATION_SETTINGS,
    REGULARIZATION_TARGETS,
    check_pixel_ascent_step,
    check_regularization_weight,
    regularization_judges,
)
from gaedu.exercises.langevin_and_diffusion import (
    LADDER_CHAINS,
    LADDER_MAX_LEVELS,
    LADDER_RATIO,
    LADDER_SEPARATION,
    LADDER_STD,
    LADDER_STEPS,
    LADDER_WEIGHTS,
    TEMPERATURE_CASES,
    TWEEDIE_CASES,
    check_langevin_step,
    check_noise_ladder,
    check_stationary_temperature,
    check_tweedie_gaussian,
    ladder_shares,
)
from gaedu.exercises.local_optima import (
    BASIN_GRID,
    BASIN_LR,
    BASIN_RADIUS,
    BASIN_STEPS,
    MULTISTART_P,
    MULTISTART_TARGET,
    check_basin_share,
    check_multistart_starts,
)
from gaedu.exercises.preface import SEEDED_DRAW_SEED, check_seeded_draw
from gaedu.exercises.reconstruction import check_masked_similarity, check_psnr_by_hand, check_ssim_by_hand
from gaedu.exercises.restoring_photographs import (
    check_downsample_adjoint,
    check_shrinkage_sure,
    check_tv_gradient,
    downsample,
)
from gaedu.exercises.scale import GRADIENT_SHARES, SCALED_LR_CASES, check_gradient_average, check_scaled_lr
from gaedu.exercises.source_code import STABLE_LOGITS_FAKE, STABLE_LOGITS_REAL, check_ae_loss, check_d_objective
from gaedu.exercises.steering_the_ascent import (
    GUIDE_MEAN,
    GUIDE_STD,
    GUIDE_WEIGHTS,
    SCALE_BRACKET,
    SCALE_DIGITS,
    TARGET_ACCURACY,
    bisect_scale,
    check_ddim_step,
    check_guided_score,
    guide_class_probability,
    guide_prior_score,
)
from gaedu.exercises.subgradient_ascent import (
    BAND_LR,
    BAND_START,
    KINK_POINT,
    POLYAK_START,
    POLYAK_STEPS,
    SCHEDULE_POWERS,
    check_constant_step_band,
    check_polyak_step,
    check_schedule_powers,
    check_stalling_tent,
    check_supergradient_at_kink,
    kink_objective,
)

__all__ = [
    # the feedback
    "ExerciseFeedback",
    # preface
    "SEEDED_DRAW_SEED",
    "check_seeded_draw",
    # image generation and reconstruction
    "TASKS",
    "check_left_half_mask",
    "check_mean_digit",
    "check_task_kinds",
    # core concepts
    "bowl_objective",
    "check_negated_objective",
    "check_psnr_mae_pair",
    "check_supergradient",
    # gradient ascent
    "BEST_LR_GRID",
    "EXERCISE_START",
    "LEMMA_REDUCTION",
    "MOMENTUM_VALUES",
    "check_ascent_step",
    "check_best_constant_lr",
    "check_lemma_steps",
    "check_max_stable_lr",
    "check_momentum_steps",
    "check_overshoot_rates",
    "stability_quadratic",
    # subgradient ascent
    "BAND_LR",
    "BAND_START",
    "KINK_POINT",
    "POLYAK_START",
    "POLYAK_STEPS",
    "SCHEDULE_POWERS",
    "check_constant_step_band",
    "check_polyak_step",
    "check_schedule_powers",
    "check_stalling_tent",
    "check_supergradient_at_kink",
    "kink_objective",
    # ascent in practice
    "BOX",
    "MINIBATCH_SIZE",
    "NOISY_LR",
    "NOISY_STD",
    "NOISY_STEPS",
    "SPREAD_SEEDS",
    "check_minibatch_mse",
    "check_newton_step",
    "check_projected_step",
    "check_seed_spread",
    "minibatch_problem",
    "noisy_ascent",
    "noisy_quadratic",
    # the GAN game, a GAN for digits
    "COLLAPSED_HISTOGRAM",
    "DIRAC_LR",
    "DIRAC_START",
    "DIRAC_STEPS",
    "RADIUS_LR",
    "RADIUS_START",
    "RADIUS_STEPS",
    "check_discriminator_step",
    "check_extragradient_factor",
    "check_frechet_distance",
    "check_jacobian_norms",
    "check_missing_classes",
    "check_r1_penalty",
    "check_simultaneous_radius",
    # reconstruction with a decoder
    "check_masked_similarity",
    "check_psnr_by_hand",
    "check_ssim_by_hand",
    # a convolutional GAN for 28×28 digits
    "CONV_CASES",
    "POWER_STEPS",
    "TRANSPOSED_CASES",
    "check_conv_parameters",
    "check_nearest_distances",
    "check_spectral_norm",
    "check_transposed_size",
    # restoring photographs
    "check_downsample_adjoint",
    "check_shrinkage_sure",
    "check_tv_gradient",
    "downsample",
    # gradient ascent in image space
    "PIXEL_TARGETS",
    "REGULARIZATION_AGREEMENT",
    "REGULARIZATION_SETTINGS",
    "REGULARIZATION_TARGETS",
    "check_pixel_ascent_step",
    "check_regularization_weight",
    "regularization_judges",
    # the source's code examples, corrected
    "STABLE_LOGITS_FAKE",
    "STABLE_LOGITS_REAL",
    "check_ae_loss",
    "check_d_objective",
    # local optima
    "BASIN_GRID",
    "BASIN_LR",
    "BASIN_RADIUS",
    "BASIN_STEPS",
    "MULTISTART_P",
    "MULTISTART_TARGET",
    "check_basin_share",
    "check_multistart_starts",
    # generating by climbing the log-density
    "LADDER_CHAINS",
    "LADDER_MAX_LEVELS",
    "LADDER_RATIO",
    "LADDER_SEPARATION",
    "LADDER_STD",
    "LADDER_STEPS",
    "LADDER_WEIGHTS",
    "TEMPERATURE_CASES",
    "TWEEDIE_CASES",
    "check_langevin_step",
    "check_noise_ladder",
    "check_stationary_temperature",
    "check_tweedie_gaussian",
    "ladder_shares",
    # steering the ascent
    "GUIDE_MEAN",
    "GUIDE_STD",
    "GUIDE_WEIGHTS",
    "SCALE_BRACKET",
    "SCALE_DIGITS",
    "TARGET_ACCURACY",
    "bisect_scale",
    "check_ddim_step",
    "check_guided_score",
    "guide_class_probability",
    "guide_prior_score",
    # ascent at scale
    "GRADIENT_SHARES",
    "SCALED_LR_CASES",
    "check_gradient_average",
    "check_scaled_lr",
    # frequently asked questions
    "DESCENT_LR",
    "DESCENT_MOMENTUM",
    "DESCENT_STEPS",
    "check_descent_loss",
    "faq_log_likelihood",
]
