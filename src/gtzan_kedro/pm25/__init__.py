"""PM2.5 forecasting library (no Kedro imports): synthetic PRSA data, data quality,
features, baselines and metrics for the ``pm25_forecast`` pipeline."""

PRSA_COLUMNS = ["No", "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES",
                "cbwd", "Iws", "Is", "Ir"]
WIND_DIRECTIONS = ["NE", "NW", "SE", "cv"]
