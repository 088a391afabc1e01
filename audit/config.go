package audit

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Mode is the durability policy of Record.
type Mode string

const (
	// ModeStrict: Record returns only once the record is fsynced, and returns
	// an error when it cannot be written. The proxy refuses the statement then.
	ModeStrict Mode = "strict"
	// ModeBuffered: Record enqueues and returns at once. Records the queue
	// cannot hold are counted and summarized by an audit_dropped record.
	ModeBuffered Mode = "buffered"
)

// Defaults applied by CheckAndSetDefaults.
const (
	DefaultFsyncInterval      = 10 * time.Millisecond
	DefaultFsyncRecords       = 256
	DefaultQueueSize          = 65536
	DefaultRotateBytes        = 64 << 20
	DefaultRotateAge          = 24 * time.Hour
	DefaultRetention          = 180 * 24 * time.Hour
	DefaultCheckpointEvery    = 10000
	DefaultCheckpointInterval = time.Minute
	// MinRetention is the shortest retention allowed without
	// Config.AllowShortRetention: personal-information operation logs must be
	// kept at least 180 days.
	MinRetention = 180 * 24 * time.Hour
)

// Config configures Open. Durations in YAML are Go duration strings ("5ms",
// "4320h").
type Config struct {
	// Dir is the directory holding the audit files; created 0700 if missing.
	Dir string `yaml:"dir"`
	// Mode is "strict" (default) or "buffered".
	Mode Mode `yaml:"mode"`
	// FsyncInterval bounds how long a written record may stay unsynced
	// (buffered mode); in strict mode every batch is fsynced before Record
	// returns. Default 10ms. Fsyncs can be much of what buffered audit
	// costs on a virtual disk: on a 2-core virtual machine, fsyncing every 10ms
	// instead of once a second took 6-9% of PostgreSQL point-select
	// throughput (bench/README.md, "Where the cost goes"). A written record
	// survives a crash of the proxy; only a crash of the machine can lose
	// the last interval's records.
	FsyncInterval time.Duration `yaml:"fsync_interval"`
	// FsyncRecords forces an fsync once this many records are unsynced and caps
	// the records acknowledged by one fsync. Default 256.
	FsyncRecords int `yaml:"fsync_records"`
	// QueueSize bounds the records waiting for the writer. Default 65536.
	QueueSize int `yaml:"queue_size"`
	// RotateBytes starts a new file when the current one would exceed it.
	// Default 64 MiB.
	RotateBytes int64 `yaml:"rotate_bytes"`
	// RotateAge starts a new file when the current one is this old. Default 24h.
	RotateAge time.Duration `yaml:"rotate_age"`
	// Retention deletes files whose last record is older than this. Default
	// and minimum 180 days (4320h).
	Retention time.Duration `yaml:"retention"`
	// HMACKeyFile holds the hex HMAC-SM3 chain key (≥ 16 bytes). Required.
	HMACKeyFile string `yaml:"hmac_key_file"`
	// SM4KeyFile holds the hex 16-byte SM4 key that encrypts literals.
	// Optional: without it literals are dropped (unless PlaintextLiterals).
	SM4KeyFile string `yaml:"sm4_key_file"`
	// SM2PrivateKeyFile holds the PKCS#8 PEM SM2 key that signs checkpoints.
	// Required.
	SM2PrivateKeyFile string `yaml:"sm2_private_key_file"`
	// CheckpointEvery writes a signed checkpoint after this many records.
	// Default 10000 (an SM2 signature costs the writer about 0.25 ms).
	// Checkpoints are also written at rotation, restart and close.
	CheckpointEvery int `yaml:"checkpoint_every"`
	// CheckpointInterval writes a checkpoint when records have been written
	// and none was signed for this long, so a quiet log is signed too.
	// Default 1m.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// PlaintextLiterals writes literals in clear when no SM4 key is set.
	// Personal data ends up in the log: only for test environments.
	PlaintextLiterals bool `yaml:"plaintext_literals"`
	// Syslog, when set, forwards every record to a syslog collector; see
	// SyslogForwarder. Open starts it and Close stops it.
	Syslog *SyslogConfig `yaml:"syslog"`
	// Kafka, when set, forwards every record to a Kafka topic; see
	// KafkaForwarder. Open starts it and Close stops it.
	Kafka *KafkaConfig `yaml:"kafka"`

	// Keys, when set, are used instead of the key files (tests, embedding).
	Keys *Keys `yaml:"-"`
	// Registerer receives the log's metrics; nil registers none.
	Registerer prometheus.Registerer `yaml:"-"`
	// FS is the file system the writer uses; nil means the OS. Tests inject
	// faults (ENOSPC, EIO) through it.
	FS FS `yaml:"-"`
	// Now is the clock; nil means time.Now. Tests drive rotation and
	// retention with it.
	Now func() time.Time `yaml:"-"`
	// AllowShortRetention permits Retention below MinRetention (tests only).
	AllowShortRetention bool `yaml:"-"`

	// checkEvery is how often the writer checks that its file is still in
	// the directory; tests shorten it. Default fileCheckInterval.
	checkEvery time.Duration
	// tailWindow is how much of a file's end Open reads first to find its
	// last record (it doubles until one is found); tests shorten it.
	// Default tailWindowSize.
	tailWindow int64
}

// CheckAndSetDefaults validates c and fills defaults. It does not read the
// key files; Open does.
func (c *Config) CheckAndSetDefaults() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("audit: dir is required"))
	}
	switch c.Mode {
	case "":
		c.Mode = ModeStrict
	case ModeStrict, ModeBuffered:
	default:
		errs = append(errs, fmt.Errorf("audit: mode %q: want strict or buffered", c.Mode))
	}
	setDuration(&c.FsyncInterval, DefaultFsyncInterval, "fsync_interval", &errs)
	setInt(&c.FsyncRecords, DefaultFsyncRecords, "fsync_records", &errs)
	setInt(&c.QueueSize, DefaultQueueSize, "queue_size", &errs)
	setInt(&c.CheckpointEvery, DefaultCheckpointEvery, "checkpoint_every", &errs)
	setDuration(&c.RotateAge, DefaultRotateAge, "rotate_age", &errs)
	setDuration(&c.CheckpointInterval, DefaultCheckpointInterval, "checkpoint_interval", &errs)
	setDuration(&c.Retention, DefaultRetention, "retention", &errs)
	switch {
	case c.RotateBytes == 0:
		c.RotateBytes = DefaultRotateBytes
	case c.RotateBytes < 4096:
		errs = append(errs, fmt.Errorf("audit: rotate_bytes %d: want at least 4096", c.RotateBytes))
	}
	if c.Retention < MinRetention && !c.AllowShortRetention {
		errs = append(errs, fmt.Errorf("audit: retention %v is below the legal minimum of %v (180 days)", c.Retention, MinRetention))
	}
	if c.Keys == nil {
		if c.HMACKeyFile == "" {
			errs = append(errs, errors.New("audit: hmac_key_file is required"))
		}
		if c.SM2PrivateKeyFile == "" {
			errs = append(errs, errors.New("audit: sm2_private_key_file is required"))
		}
	} else if len(c.Keys.HMAC) < 16 || c.Keys.SM2 == nil {
		errs = append(errs, errors.New("audit: Keys needs an HMAC key of at least 16 bytes and an SM2 key"))
	}
	if c.Syslog != nil && c.Syslog.Address == "" {
		errs = append(errs, errors.New("audit: syslog.address is required when syslog is configured"))
	}
	if c.Kafka != nil {
		if err := c.Kafka.check(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.FS == nil {
		c.FS = OSFS{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.checkEvery <= 0 {
		c.checkEvery = fileCheckInterval
	}
	if c.tailWindow <= 0 {
		c.tailWindow = tailWindowSize
	}
	return errors.Join(errs...)
}

func setDuration(v *time.Duration, def time.Duration, name string, errs *[]error) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0:
		*errs = append(*errs, fmt.Errorf("audit: %s %v: must be positive", name, *v))
	}
}

func setInt(v *int, def int, name string, errs *[]error) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0:
		*errs = append(*errs, fmt.Errorf("audit: %s %d: must be positive", name, *v))
	}
}

// loadKeys returns c.Keys or reads the configured key files.
func (c *Config) loadKeys() (*Keys, error) {
	if c.Keys != nil {
		return c.Keys, nil
	}
	hmacKey, err := LoadHexKey(c.HMACKeyFile, 16, 0)
	if err != nil {
		return nil, err
	}
	priv, err := LoadSM2PrivateKey(c.SM2PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	k := &Keys{HMAC: hmacKey, SM2: priv}
	if c.SM4KeyFile != "" {
		if k.SM4, err = LoadHexKey(c.SM4KeyFile, 16, 16); err != nil {
			return nil, err
		}
	}
	return k, nil
}
