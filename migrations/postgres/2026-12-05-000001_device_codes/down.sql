ALTER TABLE login_failures DROP COLUMN kind;
ALTER TABLE grants DROP COLUMN device_name;
DROP TABLE device_codes;
