"""What every traffic env shares: the road, vehicle kinematics, the meta-action controller, IDM/MOBIL drivers.

- :mod:`.road`: :class:`Road` (straight, lanes along +x, lane k centred at ``y = k * lane_width``).
- :mod:`.kinematics`: the kinematic bicycle (:func:`bicycle_step`), the lane/speed controller
  (:func:`steering_control`, :func:`speed_control`, both fused with the bicycle in
  :func:`steer_and_step`) and meta-actions (:func:`apply_meta_action`).
- :mod:`.drivers`: IDM (:func:`idm_acceleration`), driver types and traffic mixes.
- :mod:`.traffic`: :class:`Vehicles` (all vehicles in fixed-size arrays, controlled first),
  lane neighbours, MOBIL decisions and simulation steps (:func:`traffic_step`, :func:`traffic_steps`).
"""

from marljax.envs.traffic.common.drivers import (
    AGGRESSIVE,
    DEFENSIVE,
    DRIVER_TYPES,
    NORMAL,
    TRAFFIC_MIXES,
    DriverParams,
    desired_gap,
    driver_params,
    idm_acceleration,
    sample_driver_params,
    sample_driver_types,
)
from marljax.envs.traffic.common.kinematics import (
    FASTER,
    IDLE,
    LANE_LEFT,
    LANE_RIGHT,
    LENGTH,
    MAX_SPEED,
    META_ACTIONS,
    SLOWER,
    TARGET_SPEEDS,
    WIDTH,
    apply_meta_action,
    bicycle_step,
    speed_control,
    steer_and_step,
    steering_control,
)
from marljax.envs.traffic.common.road import Road
from marljax.envs.traffic.common.traffic import (
    Vehicles,
    collisions,
    init_vehicles,
    lane_neighbours,
    npc_decisions,
    traffic_step,
    traffic_steps,
    x_order,
)

__all__ = [
    "AGGRESSIVE",
    "DEFENSIVE",
    "DRIVER_TYPES",
    "NORMAL",
    "TRAFFIC_MIXES",
    "DriverParams",
    "desired_gap",
    "driver_params",
    "idm_acceleration",
    "sample_driver_params",
    "sample_driver_types",
    "FASTER",
    "IDLE",
    "LANE_LEFT",
    "LANE_RIGHT",
    "LENGTH",
    "MAX_SPEED",
    "META_ACTIONS",
    "SLOWER",
    "TARGET_SPEEDS",
    "WIDTH",
    "apply_meta_action",
    "bicycle_step",
    "speed_control",
    "steer_and_step",
    "steering_control",
    "Road",
    "Vehicles",
    "collisions",
    "init_vehicles",
    "lane_neighbours",
    "npc_decisions",
    "traffic_step",
    "traffic_steps",
    "x_order",
]
