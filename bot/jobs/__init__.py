"""The job engine: the durable queue, workers, intake, dispatch, the handlers' Context, housekeeping."""
