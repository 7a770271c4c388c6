BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0008');
CREATE TABLE connect_pacers (
	name VARCHAR(32) NOT NULL, 
	next_at FLOAT NOT NULL, 
	CONSTRAINT pk_connect_pacers PRIMARY KEY (name)
);
CREATE TABLE guard_state (
	id INTEGER NOT NULL, 
	locked BOOLEAN NOT NULL, 
	locked_by BIGINT, 
	locked_at DATETIME, 
	totp_last_step BIGINT, 
	wrong_codes INTEGER NOT NULL, 
	codes_blocked_until DATETIME, 
	unlock_requested_by BIGINT, 
	unlock_requested_at DATETIME, 
	claims BIGINT NOT NULL, 
	CONSTRAINT pk_guard_state PRIMARY KEY (id)
);
INSERT INTO "guard_state" VALUES(1,0,NULL,NULL,NULL,0,NULL,NULL,NULL,0);
CREATE TABLE "orders" (
	id INTEGER NOT NULL, 
	identifier VARCHAR(255) NOT NULL, 
	uuid VARCHAR(255), 
	pending_id VARCHAR(255), 
	user_id BIGINT NOT NULL, 
	chat_id BIGINT NOT NULL, 
	lang VARCHAR(16) NOT NULL, 
	market VARCHAR(32) NOT NULL, 
	side VARCHAR(8) NOT NULL, 
	ord_type VARCHAR(16) NOT NULL, 
	requested_volume TEXT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	executed_volume TEXT NOT NULL, 
	avg_price TEXT, 
	gross_funds TEXT, 
	paid_fee TEXT, 
	paper BOOLEAN NOT NULL, 
	last_error TEXT, 
	raw_response TEXT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	announce_claimed_at DATETIME, 
	announced_at DATETIME, 
	price TEXT, 
	time_in_force VARCHAR(8), 
	slip_percent TEXT, 
	avg_buy_price TEXT, 
	failure VARCHAR(16), 
	not_found_count INTEGER DEFAULT '0' NOT NULL, 
	first_not_found_at DATETIME, 
	undeliverable BOOLEAN DEFAULT 0 NOT NULL, 
	CONSTRAINT pk_orders PRIMARY KEY (id), 
	CONSTRAINT uq_orders_identifier UNIQUE (identifier), 
	CONSTRAINT uq_orders_uuid UNIQUE (uuid), 
	CONSTRAINT uq_orders_pending_id UNIQUE (pending_id)
);
CREATE TABLE paper_balances (
	currency VARCHAR(32) NOT NULL, 
	balance TEXT NOT NULL, 
	locked TEXT NOT NULL, 
	avg_buy_price TEXT NOT NULL, 
	unit_currency VARCHAR(32) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_paper_balances PRIMARY KEY (currency)
);
CREATE TABLE paper_orders (
	uuid VARCHAR(255) NOT NULL, 
	identifier VARCHAR(255) NOT NULL, 
	order_json TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_paper_orders PRIMARY KEY (uuid), 
	CONSTRAINT uq_paper_orders_identifier UNIQUE (identifier)
);
CREATE TABLE pending_sells (
	id VARCHAR(255) NOT NULL, 
	user_id BIGINT NOT NULL, 
	chat_id BIGINT NOT NULL, 
	market VARCHAR(32) NOT NULL, 
	volume TEXT NOT NULL, 
	lang VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	message_id BIGINT, ord_type VARCHAR(16) DEFAULT 'market' NOT NULL, price TEXT, time_in_force VARCHAR(8), slip_percent TEXT, est_krw TEXT, claimed_at DATETIME, released_at DATETIME, code_requested_at DATETIME, code_failures INTEGER DEFAULT '0' NOT NULL, est_net TEXT, 
	CONSTRAINT pk_pending_sells PRIMARY KEY (id)
);
CREATE TABLE price_alerts (
	id INTEGER NOT NULL, 
	user_id BIGINT NOT NULL, 
	chat_id BIGINT NOT NULL, 
	language_code VARCHAR(16), 
	market VARCHAR(32) NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	target_price TEXT NOT NULL, 
	percent TEXT, 
	basis_price TEXT, 
	status VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	fire_claimed_at DATETIME, 
	triggered_price TEXT, 
	fired_at DATETIME, 
	CONSTRAINT pk_price_alerts PRIMARY KEY (id)
);
CREATE TABLE user_settings (
	user_id BIGINT NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	quick_sell_percents VARCHAR(64) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_user_settings PRIMARY KEY (user_id)
);
CREATE INDEX ix_pending_sells_user_id_status ON pending_sells (user_id, status);
CREATE INDEX ix_price_alerts_status ON price_alerts (status);
CREATE INDEX ix_price_alerts_user_id_status ON price_alerts (user_id, status);
CREATE INDEX ix_pending_sells_claimed_at ON pending_sells (claimed_at);
CREATE INDEX ix_orders_user_id_created_at ON orders (user_id, created_at);
CREATE INDEX ix_orders_state ON orders (state);
CREATE INDEX ix_orders_announced_at ON orders (announced_at);
COMMIT;
