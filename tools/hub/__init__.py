"""The course on JupyterHub, on one machine: `python -m tools.hub` (see README, "Running the course on JupyterHub").

    python -m tools.hub init --root /srv/tinytorch-hub --db-url postgresql+psycopg2://...   (as root, once)
    python -m tools.hub add-user alice            (password on stdin; --instructor for the grading staff)
    python -m tools.hub release 01_tensor         (generate and release a module to the exchange)
    python -m tools.hub serve                     (the hub, its proxy and the formgrader service)
    python -m tools.hub grade 01_tensor           (collect, sandboxed parallel autograde, feedback)

Pieces, one file each: `layout` (the hub's folder and settings), `accounts` (Unix users and the
password roster), `auth` (the login check), `spawner` (each student's JupyterLab in a bubblewrap
view without the course's solutions), `jupyterhub_config.py` (what `serve` hands to JupyterHub).
"""
