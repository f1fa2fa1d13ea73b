"""The MQTT bus (`bus.py`: events out, commands in, buffered across broker outages) and its
command table (`commands.py`). Needs the `mqtt` extra (aiomqtt); nothing here is imported
unless `--mqtt` is given, so the simulator runs without it."""
