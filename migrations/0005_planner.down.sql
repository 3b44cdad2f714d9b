DROP INDEX appointments_patient_booked;
DROP TABLE course_plans;
DROP TABLE interval_changes;
ALTER TABLE infusions
    DROP COLUMN dose_mg_per_h, DROP COLUMN total_mg, DROP COLUMN dose_reason,
    DROP COLUMN bp_systolic_before, DROP COLUMN bp_diastolic_before, DROP COLUMN heart_rate_before, DROP COLUMN spo2_before,
    DROP COLUMN bp_systolic_after, DROP COLUMN bp_diastolic_after, DROP COLUMN heart_rate_after, DROP COLUMN spo2_after,
    DROP COLUMN pain_before, DROP COLUMN pain_after, DROP COLUMN side_effects, DROP COLUMN driver_confirmed;
