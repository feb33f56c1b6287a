DROP TABLE key_rotations;
DROP TABLE credentials;
DROP TABLE encryption_keys;
DROP TABLE master_keys;
