-- Devices (issue 9): the registry of terminals, server-side integrations and IoT devices (IOT-01, IOT-03, IOT-04,
-- BYOD-01), IoT devices lent to patients only with their recorded consent (IOT-02), and the versioned explanation of
-- the risks that is shown to the patient before they consent.
CREATE TABLE device (
    id              text        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('terminal', 'integration', 'iot')),
    name            text        NOT NULL,
    device_type     text,                             -- e.g. PC, tablet, blood-pressure monitor
    owner           text        NOT NULL,             -- facility:<id> | person:<username>
    management      text        NOT NULL CHECK (management IN ('managed', 'personal-mdm', 'personal-uncontrolled')),
    mdm_attestation text,                             -- personal-mdm: which MDM controls it, attested by whom and when
    responsible     text        NOT NULL,             -- the person responsible for it
    os_version      text,                             -- OS or firmware version (IOT-03)
    mds_sds         text,                             -- the manufacturer's security information (MDS/SDS) (IOT-01)
    fhir_device     text,                             -- the FHIR Device its measurements name (Device/<id>), if any
    state           text        NOT NULL CHECK (state IN ('registered', 'active', 'lost', 'retired', 'disposed')),
    state_reason    text,
    last_seen       timestamptz,
    credential_hash bytea,                            -- a terminal's device credential: SHA-256 of its secret
    credential_at   timestamptz,                      -- when it was issued (enrolment)
    certificate_sha256 text UNIQUE,                   -- or: the SHA-256 (hex) of its TLS client certificate (mTLS)
    registered_at   timestamptz NOT NULL,
    changed_at      timestamptz NOT NULL,
    changed_by      text        NOT NULL
);

-- The explanation of security risks shown to a patient before a device is lent, per version and language. A
-- version is never changed once written (a consent names the version the patient saw); the operator adds versions.
CREATE TABLE device_document (
    version     integer     NOT NULL,
    lang        text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    contact     text        NOT NULL,                 -- whom to contact when something goes wrong (IOT-02)
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    PRIMARY KEY (version, lang)
);
INSERT INTO device_document (version, lang, title, body, contact, created_at, created_by) VALUES
(1, 'ja', '貸与機器の利用に関するご説明（セキュリティ上のリスク）',
 'この機器は測定値をインターネット経由で当院の記録システムへ送ります。次の点をご理解ください。' || E'\n'
 || '1. 機器の紛失・盗難、または第三者による操作により、測定値が漏れたり誤った値が送られたりするおそれがあります。' || E'\n'
 || '2. 機器を他の人に貸したり、設定を変更したり、他のネットワーク機器と接続したりしないでください。' || E'\n'
 || '3. 当院から案内があった場合は、機器のソフトウェア更新にご協力ください。' || E'\n'
 || '4. 紛失や異常（見覚えのない表示、動作不良）に気付いたら、すぐに下記へご連絡ください。当院は機器の利用を直ちに停止します。' || E'\n'
 || '5. 同意はいつでも撤回できます。撤回すると、その時点から測定値は受け付けられません。返却時に機器内の認証情報は消去されます。',
 '貸与機器の窓口（代表電話にて「貸与機器の件」とお伝えください）', now(), 'installation'),
(1, 'en', 'About the device lent to you: security risks',
 'This device sends your measurements over the internet to our record system. Please understand the following.' || E'\n'
 || '1. If the device is lost, stolen or used by someone else, measurements may leak or wrong values may be sent.' || E'\n'
 || '2. Do not lend the device to others, change its settings, or connect it to other network equipment.' || E'\n'
 || '3. When we ask you to, help us update the device''s software.' || E'\n'
 || '4. If you lose it or notice anything unusual, contact us at once: we stop the device immediately.' || E'\n'
 || '5. You may withdraw your consent at any time; from then on no measurement is accepted. When the device is'
 || ' returned, its credentials are erased.',
 'The device desk (call the hospital''s main number and ask for "lent devices")', now(), 'installation');

-- A device lent to a patient. Its measurements are accepted only while consent is 'given' and the lending is open;
-- the device writes with its own credential (an OAuth2 client allowed to create Observations only), disabled when
-- the device is returned, lost or retired.
CREATE TABLE device_lending (
    id               uuid        PRIMARY KEY,
    device_id        text        NOT NULL REFERENCES device (id),
    patient_key      text        NOT NULL,
    starts           timestamptz NOT NULL,
    ends             timestamptz,                     -- planned end (measurements after it are refused)
    document_version integer     NOT NULL,
    explained_by     text        NOT NULL,            -- who explained the risks to the patient
    client_id        text        NOT NULL,            -- the device's credential for this lending
    consent          text        NOT NULL CHECK (consent IN ('pending', 'given', 'refused', 'withdrawn')),
    consent_at       timestamptz,
    consent_by       text,                            -- who signed: the patient, or a proxy and their relation
    returned_at      timestamptz,
    created_at       timestamptz NOT NULL,
    created_by       text        NOT NULL
);
CREATE UNIQUE INDEX device_lending_open ON device_lending (device_id) WHERE returned_at IS NULL;
CREATE INDEX device_lending_client ON device_lending (client_id);
CREATE INDEX device_lending_patient ON device_lending (patient_key);
