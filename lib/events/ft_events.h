/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_EVENTS_H
#define FT_EVENTS_H

/**
 * @file
 * flowtap events.
 *
 * Owns: the anomaly catalogue (DESIGN.md section 5: names are a contract, add
 * more, never rename), each name's default severity, the fixed-size event
 * record that workers push through their single-producer single-consumer
 * event ring to the control lcore, and the JSON-lines form of an event.
 *
 * Workers never block on events: when a ring is full the event is dropped
 * and counted (events.dropped); the anomaly counter still counts it.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Event severities, as written in the "severity" key. */
enum ft_severity {
	FT_SEV_INFO = 0,
	FT_SEV_WARNING,
	FT_SEV_ALERT,
};

/** X-macro of the catalogue: (enum suffix, name, default severity). */
#define FT_EVENT_TYPES(X)                                               \
	X(SYN_ACK_WITHOUT_SYN, "syn_ack_without_syn", FT_SEV_WARNING)   \
	X(SYN_ACK_BAD_ACK, "syn_ack_bad_ack", FT_SEV_WARNING)           \
	X(HANDSHAKE_BAD_ACK, "handshake_bad_ack", FT_SEV_WARNING)       \
	X(SYN_NEW_ISN, "syn_new_isn", FT_SEV_WARNING)                   \
	X(SYN_WITH_DATA, "syn_with_data", FT_SEV_WARNING)               \
	X(DATA_BEFORE_ESTABLISHED, "data_before_established", FT_SEV_WARNING) \
	X(INVALID_FLAGS, "invalid_flags", FT_SEV_ALERT)                 \
	X(SEQ_OUT_OF_WINDOW, "seq_out_of_window", FT_SEV_WARNING)       \
	X(ACK_UNSEEN_DATA, "ack_unseen_data", FT_SEV_WARNING)           \
	X(RST_OUT_OF_WINDOW, "rst_out_of_window", FT_SEV_ALERT)         \
	X(RST_IN_WINDOW_INEXACT, "rst_in_window_inexact", FT_SEV_WARNING) \
	X(RETRANSMIT_DIFFERENT_DATA, "retransmit_different_data", FT_SEV_ALERT) \
	X(TTL_CHANGE, "ttl_change", FT_SEV_WARNING)                     \
	X(PACKET_AFTER_CLOSE, "packet_after_close", FT_SEV_INFO)        \
	X(ISN_PREDICTABLE, "isn_predictable", FT_SEV_ALERT)             \
	X(SYN_FLOOD, "syn_flood", FT_SEV_ALERT)                         \
	X(MIDSTREAM_PICKUP, "midstream_pickup", FT_SEV_INFO)            \
	X(FRAG_OVERLAP, "frag_overlap", FT_SEV_WARNING)                 \
	X(FRAG_TINY_FIRST, "frag_tiny_first", FT_SEV_ALERT)             \
	X(FRAG_OVERSIZE, "frag_oversize", FT_SEV_ALERT)                 \
	X(FRAG_DF_SET, "frag_df_set", FT_SEV_WARNING)                   \
	X(FRAG_TOO_MANY, "frag_too_many", FT_SEV_WARNING)               \
	X(FRAG_TIMEOUT, "frag_timeout", FT_SEV_INFO)                    \
	X(FRAG_INCONSISTENT, "frag_inconsistent", FT_SEV_WARNING)       \
	X(SIGNATURE_MATCH, "signature_match", FT_SEV_ALERT)             \
	X(SYN_IN_ESTABLISHED, "syn_in_established", FT_SEV_WARNING)     \
	X(ACK_OUT_OF_WINDOW, "ack_out_of_window", FT_SEV_WARNING)       \
	X(TCP_BAD_CHECKSUM, "tcp_bad_checksum", FT_SEV_WARNING)        \
	X(URGENT_DATA, "urgent_data", FT_SEV_WARNING)

/** Event type ids. */
enum ft_event_type {
#define FT_EV_ENUM(id, name, sev) FT_EV_##id,
	FT_EVENT_TYPES(FT_EV_ENUM)
#undef FT_EV_ENUM
	FT_EV_MAX
};

/** Which endpoint sent the packet that raised the event. */
enum ft_event_dir {
	FT_DIR_ORIG = 0,
	FT_DIR_RESP = 1,
	FT_DIR_NONE = 2, /**< not tied to one direction (e.g. fragments) */
};

/** Bits of ft_event.has: which optional keys apply. */
#define FT_EVF_SEQ      0x01
#define FT_EVF_ACK      0x02
#define FT_EVF_EXPECTED 0x04
#define FT_EVF_STATES   0x08
#define FT_EVF_SIG      0x10

/** Bytes of ft_event.detail, including the terminating NUL. */
#define FT_EVENT_DETAIL_LEN 64

/**
 * One event as it travels from a worker to the control lcore. Fixed size, a
 * multiple of 8 bytes, copied by value through rte_ring_*_elem().
 */
struct ft_event {
	uint64_t ts_ns;       /**< packet time, ns since the epoch */
	uint16_t type;        /**< enum ft_event_type */
	uint8_t severity;     /**< enum ft_severity */
	uint8_t dir;          /**< enum ft_event_dir */
	uint8_t ip_ver;       /**< 4 or 6 */
	uint8_t proto;        /**< IPPROTO_* */
	uint8_t has;          /**< FT_EVF_* */
	uint8_t orig_state;   /**< tracker state id, valid with FT_EVF_STATES */
	uint8_t resp_state;
	uint8_t pad[3];
	uint16_t sport, dport;
	uint32_t seq, ack, expected;
	uint32_t sig_id;      /**< valid with FT_EVF_SIG */
	uint8_t src[16];
	uint8_t dst[16];
	char detail[FT_EVENT_DETAIL_LEN];
};

/** Name of an event type, e.g. "syn_with_data"; "unknown" when out of range. */
const char *ft_event_name(unsigned int type);

/** Default severity of an event type. */
enum ft_severity ft_event_default_severity(unsigned int type);

/** Name of a severity: "info", "warning" or "alert". */
const char *ft_severity_name(unsigned int sev);

/** Look an event type up by name; returns FT_EV_MAX when unknown. */
unsigned int ft_event_by_name(const char *name);

/**
 * Callback that names a tracker state id (set by the TCP tracker once it
 * exists, so this library does not depend on it). NULL prints the number.
 */
typedef const char *(*ft_state_name_fn)(unsigned int state);

/**
 * Write one event as a JSON line (with trailing newline).
 * @return 0, or -1 on a write error
 */
int ft_event_write_json(FILE *f, const struct ft_event *ev, ft_state_name_fn state_name);

/**
 * Name of an IP protocol as the "proto" key writes it: "tcp", "udp", "icmp",
 * "icmpv6", else its number (formatted into @p buf).
 */
const char *ft_proto_name(unsigned int proto, char *buf, unsigned int len);

/**
 * Format an address (IPv4 when @p ip_ver is 4, else IPv6) into @p buf.
 * @return buf
 */
char *ft_addr_format(char *buf, unsigned int len, unsigned int ip_ver, const uint8_t *addr);

#ifdef __cplusplus
}
#endif

#endif /* FT_EVENTS_H */
