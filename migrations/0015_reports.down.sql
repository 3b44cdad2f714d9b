DROP INDEX appointments_loading_course;
DROP INDEX appointments_series;
DROP INDEX appointments_local_date;
DROP TABLE series_calls;
DROP TRIGGER chair_service_changed ON chairs;
DROP FUNCTION chair_service_changed();
DROP TABLE chair_outages;
