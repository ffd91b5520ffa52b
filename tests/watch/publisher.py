"""A worker that publishes frames, for the viewer's tests and measurements (one emulator per process).

``python publisher.py JOB WORKER GAME HOLD_AFTER``: makes GAME's env, wraps it in
``publish_frames`` (as ``emurl-frames-JOB-WORKER``), prints ``ready``, waits to be watched
and steps (accelerating, turning now and then) until it has taken HOLD_AFTER steps while watched; then prints
``still <seq>`` and holds its last frame until its stdin closes (HOLD_AFTER 0: steps forever).
"""

import sys
import time

import emurl
from emurl.vector.frames import publish_frames


def main(job: str, worker: str, game: str, hold_after: int) -> None:
    env = publish_frames(emurl.make(game), worker, job, overlay=lambda e, o, i: {"game": e.unwrapped.game})
    env.reset(seed=int(worker))
    actions = [1] * 8 + [3] * 2 if env.action_space.n > 3 else [0]
    print("ready", flush=True)
    while hold_after and not env.publisher.watched:  # no steps before the test watches: the same
        time.sleep(0.005)  # steps every time, so the kart holds still at the same place (rays and all)
    published, step = 0, 0
    while hold_after == 0 or published < hold_after:
        watched = env.publisher.watched
        _, _, terminated, truncated, _ = env.step(actions[step % len(actions)])
        step += 1
        published += watched
        if terminated or truncated:
            env.reset()
    print(f"still {env.publisher.seq}", flush=True)
    sys.stdin.read()
    env.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
