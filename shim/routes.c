/*
 * routes.c: the route table.  One row per route: method, path pattern, who
 * may call it, and the one SQL call that serves it (most rows), or the
 * handler that does something else (sessions, the service routes at the
 * root).  The router (router.c) picks the row.  Nothing limits how many
 * rows there are: metrics and /openapi.json are sized from route_count at
 * start-up, and the pool's list of prepared statements grows.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a route served by evently.<fn>(actor uuid, req jsonb) */
#define API(fn) #fn, "SELECT evently." #fn "($1::uuid, $2::jsonb)"

/*
 * Where the call runs when evently is sharded by event (shim.h ShardRule):
 * the shard named by the bucket of an id in the request, the global
 * primary, every shard with the answers merged, the reporting database.
 * Every route with an evently.api_* call says which (routes_check).
 */
#define BY(key) .shard = SHARD_BY_ID, .shard_key = (key)
#define PLACE .shard = SHARD_PLACE
#define GLOBAL .shard = SHARD_GLOBAL
#define GLOBAL_WRAPPED .shard = SHARD_GLOBAL_WRAPPED
#define UNUSED(kind) .shard = SHARD_GLOBAL_UNUSED, .shard_key = (kind)
#define ALL(merge) .shard = SHARD_ALL, .shard_key = (merge)
#define REPORT .shard = SHARD_REPORT
/* the card provider's event names our payment, refund or order in its metadata (provider.c) */
#define WEBHOOK_KEY "body.data.object.metadata.payment_id,body.data.object.metadata.refund_id," \
	"body.data.object.metadata.order_id"

static const Field register_body[] = {
	{"first_name", FIELD_STRING, true, 2, 100}, {"last_name", FIELD_STRING, true, 2, 100},
	{"email", FIELD_STRING, true, 3, 254}, {"password", FIELD_STRING, true, 6, 72},
	{"role", FIELD_STRING, false, 0, 20}, {NULL}};
static const Field login_body[] = {
	{"email", FIELD_STRING, true, 3, 254}, {"password", FIELD_STRING, true, 6, 72}, {NULL}};
static const Field refresh_body[] = {{"refresh_token", FIELD_STRING, true, 1, 4096}, {NULL}};
static const Field logout_body[] = {{"refresh_token", FIELD_STRING, false, 1, 4096}, {NULL}};
static const Field password_body[] = {
	{"current_password", FIELD_STRING, true, 1, 72}, {"new_password", FIELD_STRING, true, 6, 72}, {NULL}};
static const Field hold_body[] = {
	{"event_id", FIELD_UUID, true}, {"seat_ids", FIELD_UUID_ARRAY, true, 1, 100},
	{"idempotency_key", FIELD_STRING, false, 1, 255}, {NULL}};
static const Field confirm_body[] = {
	{"hold_id", FIELD_UUID, true}, {"event_id", FIELD_UUID, true},
	{"payment_method", FIELD_STRING, true, 1, 50}, {"idempotency_key", FIELD_STRING, false, 1, 255},
	{NULL}};
static const Field waitlist_body[] = {
	{"event_id", FIELD_UUID, true}, {"quantity", FIELD_INT, false, 1, 10},
	{"preferences", FIELD_OBJECT, false, 0, 2048}, {"tier_id", FIELD_UUID, false}, {NULL}};
static const Field policy_body[] = {
	{"allow_cancellation", FIELD_BOOL, true}, {"cancellation_deadline", FIELD_STRING, true, 10, 40},
	{"fee_type", FIELD_STRING, true, 4, 10}, {"fee_amount", FIELD_NUMBER, false, 0, 1e9},
	{"refund_processing_days", FIELD_INT, false, 1, 30}, {NULL}};
static const Field event_create_body[] = {
	{"name", FIELD_STRING, true, 3, 255}, {"description", FIELD_STRING, false, 0, 2000},
	{"venue", FIELD_STRING, true, 3, 255}, {"venue_template_id", FIELD_UUID, true},
	{"date_time", FIELD_STRING, true, 10, 40}, {"base_price", FIELD_NUMBER, true, 0, 1e9},
	{"image_url", FIELD_STRING, false, 0, 500}, {"tags", FIELD_STRING_ARRAY, false, 0, 50},
	{"section_pricing", FIELD_ARRAY, true, 1, 200}, {"max_tickets_per_user", FIELD_INT, false, 1, 1000},
	{NULL}};
static const Field event_update_body[] = {
	{"name", FIELD_STRING, false, 3, 255}, {"description", FIELD_STRING, false, 0, 2000},
	{"venue", FIELD_STRING, false, 3, 255}, {"venue_template_id", FIELD_UUID, false},
	{"date_time", FIELD_STRING, false, 10, 40}, {"base_price", FIELD_NUMBER, false, 0, 1e9},
	{"status", FIELD_STRING, false, 1, 20}, {"image_url", FIELD_STRING, false, 0, 500},
	{"tags", FIELD_STRING_ARRAY, false, 0, 50}, {"max_tickets_per_user", FIELD_INT, false, 1, 1000, true},
	{NULL}};
static const Field tag_create_body[] = {
	{"name", FIELD_STRING, true, 2, 100}, {"description", FIELD_STRING, false, 0, 500},
	{"color", FIELD_STRING, false, 7, 7}, {NULL}};
static const Field tag_update_body[] = {
	{"name", FIELD_STRING, false, 2, 100}, {"description", FIELD_STRING, false, 0, 500},
	{"color", FIELD_STRING, false, 7, 7}, {"is_active", FIELD_BOOL, false}, {NULL}};
static const Field template_create_body[] = {
	{"name", FIELD_STRING, true, 3, 255}, {"description", FIELD_STRING, false, 0, 1000},
	{"default_rows", FIELD_INT, true, 1, 50}, {"default_seats_per_row", FIELD_INT, true, 1, 100},
	{"layout_type", FIELD_STRING, true, 1, 20}, {NULL}};
static const Field template_update_body[] = {
	{"name", FIELD_STRING, false, 3, 255}, {"description", FIELD_STRING, false, 0, 1000},
	{"default_rows", FIELD_INT, false, 1, 50}, {"default_seats_per_row", FIELD_INT, false, 1, 100},
	{"layout_type", FIELD_STRING, false, 1, 20}, {NULL}};
static const Field section_create_body[] = {
	{"name", FIELD_STRING, true, 1, 255}, {"description", FIELD_STRING, false, 0, 500},
	{"row_start", FIELD_STRING, true, 1, 10}, {"row_end", FIELD_STRING, true, 1, 10},
	{"seats_per_row", FIELD_INT, true, 1, 100}, {"total_seats", FIELD_INT, false, 1, 1000000}, {NULL}};
static const Field section_update_body[] = {
	{"name", FIELD_STRING, false, 1, 255}, {"description", FIELD_STRING, false, 0, 500}, {NULL}};
static const Field seat_update_body[] = {
	{"seat_number", FIELD_STRING, false, 1, 20}, {"row", FIELD_STRING, false, 1, 10},
	{"position", FIELD_INT, false, 1, 100000}, {"status", FIELD_STRING, false, 1, 20}, {NULL}};
static const Field availability_body[] = {
	{"event_id", FIELD_UUID, true}, {"seat_ids", FIELD_UUID_ARRAY, true, 1, 100}, {NULL}};
static const Field notify_body[] = {{"available_tickets", FIELD_INT, true, 1, 100000}, {NULL}};
static const Field freed_body[] = {{"freed_tickets", FIELD_INT, true, 1, 100000}, {NULL}};
static const Field organizer_apply_body[] = {
	{"organization_name", FIELD_STRING, true, 2, 200}, {"description", FIELD_STRING, false, 0, 2000}, {NULL}};
static const Field organizer_verify_body[] = {
	{"decision", FIELD_STRING, true, 1, 20}, {"reason", FIELD_STRING, false, 0, 500}, {NULL}};
/* an organizer's event: the admin fields, the venue optional (tiers only), plus the lifecycle's */
static const Field organizer_event_create_body[] = {
	{"name", FIELD_STRING, true, 3, 255}, {"description", FIELD_STRING, false, 0, 2000},
	{"venue", FIELD_STRING, true, 3, 255}, {"venue_template_id", FIELD_UUID, false},
	{"date_time", FIELD_STRING, true, 10, 40}, {"end_time", FIELD_STRING, false, 10, 40},
	{"base_price", FIELD_NUMBER, true, 0, 1e9}, {"image_url", FIELD_STRING, false, 0, 500},
	{"tags", FIELD_STRING_ARRAY, false, 0, 50}, {"section_pricing", FIELD_ARRAY, false, 0, 200},
	{"max_tickets_per_user", FIELD_INT, false, 1, 1000}, {"category", FIELD_STRING, false, 1, 50},
	{"sales_during_event", FIELD_BOOL, false}, {"transfers_allowed", FIELD_BOOL, false},
	{"doors_open_minutes", FIELD_INT, false, 0, 2880}, {NULL}};
static const Field organizer_event_update_body[] = {
	{"name", FIELD_STRING, false, 3, 255}, {"description", FIELD_STRING, false, 0, 2000},
	{"venue", FIELD_STRING, false, 3, 255}, {"venue_template_id", FIELD_UUID, false},
	{"date_time", FIELD_STRING, false, 10, 40}, {"end_time", FIELD_STRING, false, 10, 40},
	{"base_price", FIELD_NUMBER, false, 0, 1e9}, {"image_url", FIELD_STRING, false, 0, 500},
	{"tags", FIELD_STRING_ARRAY, false, 0, 50}, {"max_tickets_per_user", FIELD_INT, false, 1, 1000, true},
	{"category", FIELD_STRING, false, 1, 50}, {"sales_during_event", FIELD_BOOL, false},
	{"transfers_allowed", FIELD_BOOL, false}, {"doors_open_minutes", FIELD_INT, false, 0, 2880}, {NULL}};
/* tickets in hand and the door (SPEC section 11): codes are checked in SQL, any string a scanner read */
static const Field transfer_body[] = {{"email", FIELD_STRING, true, 3, 254}, {NULL}};
static const Field staff_body[] = {{"user_id", FIELD_UUID, true}, {NULL}};
static const Field checkin_body[] = {
	{"code", FIELD_STRING, true, 1, 1000}, {"event_id", FIELD_UUID, true},
	{"gate", FIELD_STRING, false, 1, 100}, {"device_id", FIELD_STRING, false, 1, 100}, {NULL}};
static const Field sync_body[] = {
	{"device_id", FIELD_STRING, true, 1, 100}, {"event_id", FIELD_UUID, false},
	{"scans", FIELD_ARRAY, true, 1, 1000}, {NULL}};
/* a ticket tier (SPEC section 10): the SQL checks the rest (2 decimals, min <= max, the sale window) */
static const Field tier_create_body[] = {
	{"name", FIELD_STRING, true, 1, 100}, {"description", FIELD_STRING, false, 0, 2000},
	{"price", FIELD_NUMBER, true, 0, 9999999999.99}, {"total_quantity", FIELD_INT, true, 1, 1000000},
	{"sale_start", FIELD_STRING, false, 10, 40}, {"sale_end", FIELD_STRING, false, 10, 40},
	{"min_per_order", FIELD_INT, false, 1, 100}, {"max_per_order", FIELD_INT, false, 1, 100},
	{"sort_order", FIELD_INT, false, -1000000, 1000000}, {NULL}};
static const Field tier_update_body[] = {
	{"name", FIELD_STRING, false, 1, 100}, {"description", FIELD_STRING, false, 0, 2000, true},
	{"price", FIELD_NUMBER, false, 0, 9999999999.99}, {"total_quantity", FIELD_INT, false, 1, 1000000},
	{"sale_start", FIELD_STRING, false, 10, 40, true}, {"sale_end", FIELD_STRING, false, 10, 40, true},
	{"min_per_order", FIELD_INT, false, 1, 100}, {"max_per_order", FIELD_INT, false, 1, 100},
	{"sort_order", FIELD_INT, false, -1000000, 1000000}, {NULL}};
/* discount codes (extension/sql/55_discounts.sql): the SQL checks code's characters, one of percent/amount */
static const Field discount_create_body[] = {
	{"code", FIELD_STRING, true, 3, 40}, {"percent_off", FIELD_NUMBER, false, 0, 100},
	{"amount_off", FIELD_NUMBER, false, 0, 1e9}, {"max_uses", FIELD_INT, false, 1, 100000000},
	{"valid_from", FIELD_STRING, false, 10, 40}, {"valid_to", FIELD_STRING, false, 10, 40},
	{"tier_ids", FIELD_UUID_ARRAY, false, 1, 100}, {NULL}};
static const Field discount_update_body[] = {
	{"is_active", FIELD_BOOL, false}, {"max_uses", FIELD_INT, false, 1, 100000000, true},
	{"valid_from", FIELD_STRING, false, 10, 40, true}, {"valid_to", FIELD_STRING, false, 10, 40, true}, {NULL}};
static const Field provider_fee_body[] = {
	{"provider", FIELD_STRING, true, 1, 20}, {"percent_fee", FIELD_NUMBER, true, 0, 100},
	{"fixed_fee", FIELD_NUMBER, true, 0, 1e6}, {NULL}};
/* tiers, orders and payments (SPEC section 10): items and providers are checked in SQL */
static const Field reserve_body[] = {
	{"event_id", FIELD_UUID, true}, {"items", FIELD_ARRAY, true, 1, 20},
	{"idempotency_key", FIELD_STRING, false, 1, 255}, {NULL}};
static const Field order_body[] = {
	{"hold_id", FIELD_UUID, true}, {"payment_provider", FIELD_STRING, true, 1, 20},
	{"discount_code", FIELD_STRING, false, 1, 50}, {NULL}};
static const Field order_refund_body[] = {
	{"amount", FIELD_NUMBER, false, 0.01, 1e9}, {"reason", FIELD_STRING, true, 1, 500},
	{"ticket_ids", FIELD_UUID_ARRAY, false, 1, 100}, {NULL}};
static const Field reason_required[] = {{"reason", FIELD_STRING, true, 1, 500}, {NULL}};
static const Field reason_optional[] = {{"reason", FIELD_STRING, false, 1, 500}, {NULL}};

const Route routes[] = {
	{"GET", "/ping", AUTH_PUBLIC, ping_route, NULL, NULL, 200, "pong"},
	{"GET", "/status", AUTH_PUBLIC, status_route, NULL, NULL, 200, "operational"},
	{"GET", "/health", AUTH_PUBLIC, health_route, HEALTH_STATEMENT_NAME, HEALTH_STATEMENT, 200, "healthy"},
	{"GET", "/metrics", AUTH_PUBLIC, metrics_route},
	{"GET", "/", AUTH_PUBLIC, root_route},
	{"GET", "/openapi.json", AUTH_PUBLIC, openapi_route},
	{"GET", "/docs", AUTH_PUBLIC, docs_route},
	{"GET", "/docs/:file", AUTH_PUBLIC, docs_asset_route},

	{"POST", "/api/v1/auth/register", AUTH_PUBLIC, password_session_route, API(api_register),
	 201, "User registered successfully", register_body, GLOBAL},
	{"POST", "/api/v1/auth/login", AUTH_PUBLIC, password_session_route, API(api_login),
	 200, "Login successful", login_body, GLOBAL},
	{"POST", "/api/v1/auth/refresh", AUTH_PUBLIC, refresh_route, API(api_refresh),
	 200, "Token refreshed successfully", refresh_body, GLOBAL},
	{"POST", "/api/v1/auth/logout", AUTH_PUBLIC, logout_route, API(api_logout),
	 200, "Logged out successfully", logout_body, GLOBAL},
	{"GET", "/api/v1/auth/me", AUTH_USER, sql_route, API(api_me),
	 200, "User data retrieved successfully", GLOBAL},
	{"PUT", "/api/v1/auth/change-password", AUTH_USER, password_change_route, API(api_change_password),
	 200, "Password changed successfully", password_body, GLOBAL},

	{"GET", "/api/v1/events", AUTH_PUBLIC, sql_route, API(api_events_list),
	 200, "Events retrieved successfully", .public_read = true, ALL("events")},
	{"GET", "/api/v1/events/upcoming", AUTH_PUBLIC, sql_route, API(api_events_upcoming),
	 200, "Upcoming events retrieved successfully", .public_read = true, ALL("events_upcoming")},
	{"GET", "/api/v1/events/search", AUTH_PUBLIC, sql_route, API(api_events_search),
	 200, "Events retrieved successfully", .public_read = true, ALL("events_search")},
	{"GET", "/api/v1/events/:eventId", AUTH_OPTIONAL, sql_route, API(api_event_get),
	 200, "Event retrieved successfully", .public_read = true, BY("path.eventId")},
	{"GET", "/api/v1/events/:eventId/sections", AUTH_USER, sql_route, API(api_event_sections),
	 200, "Sections retrieved successfully", BY("path.eventId")},
	{"GET", "/api/v1/events/:eventId/venue/layout", AUTH_USER, sql_route, API(api_event_layout),
	 200, "Venue layout retrieved successfully", BY("path.eventId")},

	/* organizers and the event lifecycle (SPEC section 9) */
	{"POST", "/api/v1/organizers", AUTH_USER, sql_route, API(api_organizer_apply),
	 201, "Organizer application submitted", organizer_apply_body, GLOBAL},
	{"GET", "/api/v1/organizers/me", AUTH_USER, sql_route, API(api_organizer_me),
	 200, "Organizer application retrieved successfully", GLOBAL},
	{"GET", "/api/v1/admin/organizers", AUTH_ADMIN, sql_route, API(api_admin_organizers_list),
	 200, "Organizer applications retrieved successfully", GLOBAL},
	{"POST", "/api/v1/admin/organizers/:id/verify", AUTH_ADMIN, sql_route, API(api_admin_organizer_verify),
	 200, "Organizer application decided", organizer_verify_body, GLOBAL},
	{"POST", "/api/v1/admin/organizers/:id/revoke", AUTH_ADMIN, sql_route, API(api_admin_organizer_revoke),
	 200, "Organizer verification revoked", reason_required, GLOBAL},
	{"POST", "/api/v1/events", AUTH_USER, sql_route, API(api_organizer_event_create),
	 201, "Event created successfully", organizer_event_create_body, PLACE},
	{"PUT", "/api/v1/events/:eventId", AUTH_USER, sql_route, API(api_organizer_event_update),
	 200, "Event updated successfully", organizer_event_update_body, BY("path.eventId")},
	{"DELETE", "/api/v1/events/:eventId", AUTH_USER, sql_route, API(api_organizer_event_delete),
	 200, "Event deleted successfully", BY("path.eventId")},
	{"POST", "/api/v1/events/:eventId/submit", AUTH_USER, sql_route, API(api_event_submit),
	 200, "Event submitted for review", BY("path.eventId")},
	{"POST", "/api/v1/events/:eventId/cancel", AUTH_USER, sql_route, API(api_event_cancel),
	 200, "Event cancelled; every booking is refunded in full", reason_required, .bulk = true, BY("path.eventId")},
	{"POST", "/api/v1/events/:eventId/cancellation-policy", AUTH_USER, sql_route,
	 API(api_policy_set), 201, "Cancellation policy created successfully", policy_body, BY("path.eventId")},
	{"GET", "/api/v1/events/:eventId/cancellation-policy", AUTH_USER, sql_route,
	 API(api_policy_get), 200, "Cancellation policy retrieved successfully", BY("path.eventId")},
	{"PUT", "/api/v1/events/:eventId/cancellation-policy", AUTH_USER, sql_route,
	 API(api_policy_set), 200, "Cancellation policy updated successfully", policy_body, BY("path.eventId")},
	{"POST", "/api/v1/admin/events/:eventId/approve", AUTH_ADMIN, sql_route, API(api_admin_event_approve),
	 200, "Event published", BY("path.eventId")},
	{"POST", "/api/v1/admin/events/:eventId/reject", AUTH_ADMIN, sql_route, API(api_admin_event_reject),
	 200, "Event returned to draft", reason_required, BY("path.eventId")},

	/* ticket tiers (SPEC section 10; extension/sql/48_tiers.sql): the event's organizer or an ADMIN writes */
	{"POST", "/api/v1/events/:eventId/tiers", AUTH_USER, sql_route, API(api_event_tier_create),
	 201, "Ticket tier created successfully", tier_create_body, .bulk = true, BY("path.eventId")},
	{"GET", "/api/v1/events/:eventId/tiers", AUTH_OPTIONAL, sql_route, API(api_event_tiers),
	 200, "Ticket tiers retrieved successfully", .public_read = true, BY("path.eventId")},
	{"PUT", "/api/v1/tiers/:id", AUTH_USER, sql_route, API(api_tier_update),
	 200, "Ticket tier updated successfully", tier_update_body, .bulk = true, BY("path.id")},
	{"DELETE", "/api/v1/tiers/:id", AUTH_USER, sql_route, API(api_tier_delete),
	 200, "Ticket tier deleted successfully", .bulk = true, BY("path.id")},

	{"GET", "/api/v1/tags/active", AUTH_PUBLIC, sql_route, API(api_tags_active),
	 200, "Active tags retrieved successfully", .public_read = true, GLOBAL},
	{"GET", "/api/v1/tags/slug/:slug", AUTH_PUBLIC, sql_route, API(api_tag_by_slug),
	 200, "Tag retrieved successfully", .public_read = true, GLOBAL},

	{"POST", "/api/v1/seats/hold", AUTH_USER, sql_route, API(api_hold_seats),
	 200, "Seats held successfully", hold_body, BY("body.event_id")},
	{"GET", "/api/v1/seats/:id", AUTH_USER, sql_route, API(api_seat_get), 200, "Seat retrieved successfully", GLOBAL},
	{"POST", "/api/v1/seats/availability", AUTH_USER, sql_route, API(api_seats_availability),
	 200, "Seat availability checked successfully", availability_body, BY("body.event_id")},
	{"GET", "/api/v1/seats/hold/:holdId/validate", AUTH_USER, sql_route, API(api_hold_validate),
	 200, "Hold is valid", BY("path.holdId")},
	{"GET", "/api/v1/sections/:sectionId/seats", AUTH_PUBLIC, sql_route, API(api_section_seats),
	 200, "Seats retrieved successfully", .public_read = true, GLOBAL},
	{"GET", "/api/v1/sections/:sectionId/seats/available", AUTH_PUBLIC, sql_route,
	 API(api_section_seats_available), 200, "Available seats retrieved successfully", .public_read = true, BY("query.event_id")},
	{"GET", "/api/v1/seats/hold/:holdId", AUTH_USER, sql_route, API(api_hold_get),
	 200, "Hold retrieved successfully", BY("path.holdId")},
	{"DELETE", "/api/v1/seats/hold/:holdId", AUTH_USER, sql_route, API(api_hold_release),
	 200, "Hold released successfully", BY("path.holdId")},

	{"POST", "/api/v1/bookings/confirm", AUTH_USER, sql_route, API(api_booking_confirm),
	 201, "Booking confirmed successfully", confirm_body, BY("body.hold_id")},
	{"GET", "/api/v1/bookings/:id", AUTH_USER, sql_route, API(api_booking_get),
	 200, "Booking retrieved successfully", BY("path.id")},
	{"POST", "/api/v1/bookings/:id/request-cancel", AUTH_USER, sql_route, API(api_booking_cancel),
	 201, "Cancellation processed successfully. Refund will be credited within the specified processing days.",
	 reason_required, BY("path.id")},
	{"POST", "/api/v1/bookings/:id/cancel", AUTH_USER, sql_route, API(api_booking_cancel),
	 200, "Booking cancelled successfully", reason_optional, BY("path.id")},

	{"POST", "/api/v1/waitlist", AUTH_USER, sql_route, API(api_waitlist_join),
	 201, "Successfully joined waitlist", waitlist_body, BY("body.event_id")},
	{"DELETE", "/api/v1/waitlist/:event_id", AUTH_USER, sql_route, API(api_waitlist_leave),
	 200, "Successfully left waitlist", BY("path.event_id")},
	{"GET", "/api/v1/waitlist/status/:event_id", AUTH_USER, sql_route, API(api_waitlist_status),
	 200, "Waitlist status retrieved successfully", BY("path.event_id")},
	{"GET", "/api/v1/users/waitlist", AUTH_USER, sql_route, API(api_user_waitlist),
	 200, "Waitlist entries retrieved successfully", ALL("user_waitlist")},

	{"GET", "/api/v1/users/bookings", AUTH_USER, sql_route, API(api_user_bookings),
	 200, "Bookings retrieved successfully", ALL("user_bookings")},
	{"GET", "/api/v1/users/cancellations", AUTH_USER, sql_route, API(api_user_cancellations),
	 200, "User cancellations retrieved successfully", ALL("user_cancellations")},
	{"GET", "/api/v1/users/notifications", AUTH_USER, sql_route, API(api_user_notifications),
	 200, "Notifications retrieved successfully", GLOBAL},
	{"GET", "/api/v1/cancellations/:id", AUTH_USER, sql_route, API(api_cancellation_get),
	 200, "Cancellation retrieved successfully", BY("path.id")},
	{"GET", "/api/v1/users/:userId/holds", AUTH_USER, sql_route, API(api_user_holds),
	 200, "User holds retrieved successfully", ALL("user_holds")},

	{"POST", "/api/v1/admin/events/:eventId/cancellation-policy", AUTH_ADMIN, sql_route,
	 API(api_policy_set), 201, "Cancellation policy created successfully", policy_body, BY("path.eventId")},
	{"GET", "/api/v1/admin/events/:eventId/cancellation-policy", AUTH_ADMIN, sql_route,
	 API(api_policy_get), 200, "Cancellation policy retrieved successfully", BY("path.eventId")},
	{"PUT", "/api/v1/admin/events/:eventId/cancellation-policy", AUTH_ADMIN, sql_route,
	 API(api_policy_set), 200, "Cancellation policy updated successfully", policy_body, BY("path.eventId")},

	{"POST", "/api/v1/admin/events", AUTH_ADMIN, sql_route, API(api_event_create),
	 201, "Event created successfully", event_create_body, PLACE},
	{"GET", "/api/v1/admin/events", AUTH_ADMIN, sql_route, API(api_admin_events_list),
	 200, "Events retrieved successfully", ALL("admin_events")},
	{"GET", "/api/v1/admin/events/:eventId", AUTH_ADMIN, sql_route, API(api_admin_event_get),
	 200, "Event retrieved successfully", BY("path.eventId")},
	{"PUT", "/api/v1/admin/events/:eventId", AUTH_ADMIN, sql_route, API(api_event_update),
	 200, "Event updated successfully", event_update_body, BY("path.eventId")},
	{"DELETE", "/api/v1/admin/events/:eventId", AUTH_ADMIN, sql_route, API(api_event_delete),
	 200, "Event deleted successfully", BY("path.eventId")},

	{"POST", "/api/v1/admin/tags", AUTH_ADMIN, sql_route, API(api_tag_create),
	 201, "Tag created successfully", tag_create_body, GLOBAL},
	{"GET", "/api/v1/admin/tags", AUTH_ADMIN, sql_route, API(api_tags_list),
	 200, "Tags retrieved successfully", GLOBAL},
	{"GET", "/api/v1/admin/tags/active", AUTH_ADMIN, sql_route, API(api_admin_tags_active),
	 200, "Active tags retrieved successfully", GLOBAL},
	{"GET", "/api/v1/admin/tags/:id", AUTH_ADMIN, sql_route, API(api_tag_get),
	 200, "Tag retrieved successfully", GLOBAL},
	{"PUT", "/api/v1/admin/tags/:id", AUTH_ADMIN, sql_route, API(api_tag_update),
	 200, "Tag updated successfully", tag_update_body, GLOBAL},
	{"DELETE", "/api/v1/admin/tags/:id", AUTH_ADMIN, sql_route, API(api_tag_delete),
	 200, "Tag deleted successfully", UNUSED("tag")},

	{"POST", "/api/v1/admin/venue-templates", AUTH_ADMIN, sql_route, API(api_template_create),
	 201, "Template created successfully", template_create_body, GLOBAL},
	{"GET", "/api/v1/admin/venue-templates", AUTH_ADMIN, sql_route, API(api_templates_list),
	 200, "Templates retrieved successfully", GLOBAL},
	{"GET", "/api/v1/admin/venue-templates/:id", AUTH_ADMIN, sql_route, API(api_template_get),
	 200, "Template retrieved successfully", GLOBAL},
	{"PUT", "/api/v1/admin/venue-templates/:id", AUTH_ADMIN, sql_route, API(api_template_update),
	 200, "Template updated successfully", template_update_body, GLOBAL},
	{"DELETE", "/api/v1/admin/venue-templates/:id", AUTH_ADMIN, sql_route, API(api_template_delete),
	 200, "Template deleted successfully", UNUSED("template")},
	{"POST", "/api/v1/admin/venue-templates/:id/sections", AUTH_ADMIN, sql_route, API(api_section_create),
	 201, "Section created successfully", section_create_body, GLOBAL},
	{"GET", "/api/v1/admin/venue-templates/:id/sections", AUTH_ADMIN, sql_route, API(api_sections_list),
	 200, "Sections retrieved successfully", GLOBAL},
	{"PUT", "/api/v1/admin/sections/:id", AUTH_ADMIN, sql_route, API(api_section_update),
	 200, "Section updated successfully", section_update_body, GLOBAL},
	{"DELETE", "/api/v1/admin/sections/:id", AUTH_ADMIN, sql_route, API(api_section_delete),
	 200, "Section deleted successfully", UNUSED("section")},
	{"PUT", "/api/v1/admin/seats/:id", AUTH_ADMIN, sql_route, API(api_seat_update),
	 200, "Seat updated successfully", seat_update_body, UNUSED("seat_label")},
	{"DELETE", "/api/v1/admin/seats/:id", AUTH_ADMIN, sql_route, API(api_seat_delete),
	 200, "Seat deleted successfully", UNUSED("seat")},

	{"GET", "/api/v1/admin/waitlist/stats/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_stats),
	 200, "Waitlist stats retrieved successfully", BY("path.event_id")},
	{"GET", "/api/v1/admin/waitlist/entries/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_entries),
	 200, "Waitlist entries retrieved successfully", BY("path.event_id")},
	{"POST", "/api/v1/admin/waitlist/notify/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_notify),
	 200, "Notifications sent to next users in line", notify_body, BY("path.event_id")},
	{"POST", "/api/v1/admin/waitlist/cancellation/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_notify),
	 200, "Cancellation processed successfully", freed_body, BY("path.event_id")},
	{"GET", "/api/v1/admin/events/analytics", AUTH_ADMIN, sql_route, API(api_events_analytics),
	 200, "All event analytics retrieved successfully", REPORT},
	{"GET", "/api/v1/admin/events/:eventId/analytics", AUTH_ADMIN, sql_route, API(api_event_analytics),
	 200, "Event analytics retrieved successfully", BY("path.eventId")},
	{"GET", "/api/v1/admin/events/:eventId/bookings", AUTH_ADMIN, sql_route, API(api_admin_event_bookings),
	 200, "Bookings retrieved successfully", BY("path.eventId")},

	{"GET", "/api/v1/analytics/admin/dashboard", AUTH_ADMIN, sql_route, API(api_analytics_dashboard),
	 200, "Dashboard retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/events", AUTH_ADMIN, sql_route, API(api_analytics_events),
	 200, "Event analytics retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/events/:id", AUTH_ADMIN, sql_route, API(api_analytics_event),
	 200, "Event analytics retrieved successfully", BY("path.id")},
	{"GET", "/api/v1/analytics/admin/tags", AUTH_ADMIN, sql_route, API(api_analytics_tags),
	 200, "Tag analytics retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/tags/popularity", AUTH_ADMIN, sql_route, API(api_analytics_tag_popularity),
	 200, "Tag popularity retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/tags/trends", AUTH_ADMIN, sql_route, API(api_analytics_tag_trends),
	 200, "Tag trends retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/tags/comparisons", AUTH_ADMIN, sql_route, API(api_analytics_tag_comparisons),
	 200, "Tag comparisons retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/bookings", AUTH_ADMIN, sql_route, API(api_analytics_bookings),
	 200, "Booking analytics retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/bookings/daily", AUTH_ADMIN, sql_route, API(api_analytics_bookings_daily),
	 200, "Daily booking stats retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/bookings/cancellations", AUTH_ADMIN, sql_route,
	 API(api_analytics_cancellations), 200, "Cancellation analytics retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/admin/users", AUTH_ADMIN, sql_route, API(api_analytics_users),
	 200, "User analytics retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/user/bookings/history", AUTH_USER, sql_route, API(api_analytics_user_history),
	 200, "Booking history retrieved successfully", REPORT},
	{"GET", "/api/v1/analytics/user/personal", AUTH_USER, sql_route, API(api_analytics_user_personal),
	 200, "Personal analytics retrieved successfully", REPORT},

	/* an organizer's back office: its own events (an ADMIN's: all); attendees also as CSV */
	{"GET", "/api/v1/organizer/events", AUTH_USER, sql_route, API(api_organizer_events),
	 200, "Organizer events retrieved successfully", ALL("organizer_events")},
	{"GET", "/api/v1/organizer/events/:eventId/dashboard", AUTH_USER, sql_route,
	 API(api_organizer_event_dashboard), 200, "Event dashboard retrieved successfully", BY("path.eventId")},
	{"GET", "/api/v1/organizer/events/:eventId/attendees", AUTH_USER, csv_route,
	 API(api_organizer_event_attendees), 200, "Attendees retrieved successfully", BY("path.eventId")},
	{"GET", "/api/v1/organizer/events/:eventId/bookings", AUTH_USER, sql_route,
	 API(api_organizer_event_bookings), 200, "Event bookings retrieved successfully", BY("path.eventId")},

	{"GET", "/api/v1/organizer/events/:eventId/payouts", AUTH_USER, sql_route,
	 API(api_organizer_event_payouts), 200, "Payout report retrieved successfully", BY("path.eventId")},

	/* discount codes and provider fees (SPEC section 10; 55_discounts.sql, 93_payouts.sql) */
	{"POST", "/api/v1/events/:eventId/discount-codes", AUTH_USER, sql_route, API(api_discount_code_create),
	 201, "Discount code created successfully", discount_create_body, BY("path.eventId")},
	{"GET", "/api/v1/events/:eventId/discount-codes", AUTH_USER, sql_route, API(api_discount_codes_list),
	 200, "Discount codes retrieved successfully", BY("path.eventId")},
	{"PUT", "/api/v1/discount-codes/:id", AUTH_USER, sql_route, API(api_discount_code_update),
	 200, "Discount code updated successfully", discount_update_body, BY("path.id")},
	{"POST", "/api/v1/admin/provider-fees", AUTH_ADMIN, sql_route, API(api_admin_provider_fee_set),
	 200, "Provider fee set successfully", provider_fee_body, GLOBAL},
	{"GET", "/api/v1/admin/provider-fees", AUTH_ADMIN, sql_route, API(api_admin_provider_fees),
	 200, "Provider fees retrieved successfully", GLOBAL},

	{"GET", "/api/v1/admin/bookings", AUTH_ADMIN, sql_route, API(api_admin_bookings),
	 200, "Bookings retrieved successfully", ALL("admin_bookings")},

	/* moderation: bans, users, the audit log (SPEC section 9; extension/sql/12_moderation.sql) */
	{"POST", "/api/v1/admin/users/:id/ban", AUTH_ADMIN, sql_route, API(api_admin_user_ban),
	 200, "User banned", reason_required, GLOBAL_WRAPPED},
	{"POST", "/api/v1/admin/users/:id/unban", AUTH_ADMIN, sql_route, API(api_admin_user_unban),
	 200, "User unbanned", GLOBAL},
	{"GET", "/api/v1/admin/users", AUTH_ADMIN, sql_route, API(api_admin_users_list),
	 200, "Users retrieved successfully", GLOBAL},
	{"GET", "/api/v1/admin/audit-logs", AUTH_ADMIN, sql_route, API(api_admin_audit_logs),
	 200, "Audit logs retrieved successfully", ALL("audit_logs")},
	{"GET", "/api/v1/organizer/events/:eventId/audit-logs", AUTH_USER, sql_route,
	 API(api_organizer_event_audit_logs), 200, "Audit logs retrieved successfully", BY("path.eventId")},

	/*
	 * orders and payments (SPEC section 10; extension/sql/54_payments.sql):
	 * a card order's intent is created at the provider by its handler
	 * (payments.c); the provider's webhook has no token but a signature
	 * over its exact bytes, so its body reaches the handler unparsed
	 */
	{"POST", "/api/v1/tickets/reserve", AUTH_USER, sql_route, API(api_tickets_reserve),
	 200, "Tickets reserved successfully", reserve_body, BY("body.event_id")},
	{"POST", "/api/v1/orders", AUTH_USER, order_create_route, API(api_order_create),
	 201, "Order created successfully", order_body, BY("body.hold_id")},
	{"GET", "/api/v1/orders/my-orders", AUTH_USER, sql_route, API(api_orders_mine),
	 200, "Orders retrieved successfully", ALL("my_orders")},
	{"GET", "/api/v1/orders/:id", AUTH_USER, sql_route, API(api_order_get),
	 200, "Order retrieved successfully", BY("path.id")},
	{"POST", "/api/v1/admin/orders/:id/mark-paid", AUTH_USER, sql_route, API(api_order_mark_paid),
	 200, "Order marked as paid", BY("path.id")},
	{"POST", "/api/v1/orders/:id/refund", AUTH_USER, sql_route, API(api_order_refund),
	 201, "Refund requested", order_refund_body, BY("path.id")},
	{"POST", "/api/v1/organizer/refunds/:id/approve", AUTH_USER, sql_route, API(api_refund_approve),
	 200, "Refund approved", BY("path.id")},
	{"GET", "/api/v1/organizer/events/:eventId/refunds", AUTH_USER, sql_route, API(api_organizer_refunds),
	 200, "Refunds retrieved successfully", BY("path.eventId")},
	{"POST", "/api/v1/organizer/refunds/:id/reject", AUTH_USER, sql_route, API(api_refund_reject),
	 200, "Refund rejected", reason_required, BY("path.id")},

	/* tickets, transfers, staff and check-in (SPEC section 11; 58_tickets.sql, 59_checkin.sql) */
	{"GET", "/api/v1/tickets/my-tickets", AUTH_USER, sql_route, API(api_tickets_mine),
	 200, "Tickets retrieved successfully", ALL("my_tickets")},
	{"GET", "/api/v1/tickets/:id", AUTH_USER, sql_route, API(api_ticket_get),
	 200, "Ticket retrieved successfully", BY("path.id")},
	/* the holder's code as a QR image (handlers.c: qr_route draws what api_ticket_get answers) */
	{"GET", "/api/v1/tickets/:id/qr", AUTH_USER, qr_route, API(api_ticket_get),
	 200, "Ticket QR code", BY("path.id")},
	{"POST", "/api/v1/tickets/:id/transfer", AUTH_USER, sql_route, API(api_ticket_transfer),
	 200, "Ticket transferred", transfer_body, BY("path.id")},
	{"POST", "/api/v1/events/:eventId/staff", AUTH_USER, sql_route, API(api_event_staff_add),
	 201, "Staff member added", staff_body, BY("path.eventId")},
	{"GET", "/api/v1/events/:eventId/staff", AUTH_USER, sql_route, API(api_event_staff_list),
	 200, "Staff retrieved successfully", BY("path.eventId")},
	{"DELETE", "/api/v1/events/:eventId/staff/:userId", AUTH_USER, sql_route, API(api_event_staff_remove),
	 200, "Staff member removed", BY("path.eventId")},
	{"POST", "/api/v1/checkin/validate", AUTH_USER, sql_route, API(api_checkin_validate),
	 200, "Checked in", checkin_body, BY("body.event_id")},
	{"POST", "/api/v1/checkin/:checkinId/revert", AUTH_USER, sql_route, API(api_checkin_revert),
	 200, "Check-in reverted", BY("path.checkinId")},
	{"GET", "/api/v1/checkin/event/:id", AUTH_USER, sql_route, API(api_checkin_stats),
	 200, "Check-in statistics retrieved successfully", BY("path.id")},
	{"GET", "/api/v1/checkin/event/:id/offline", AUTH_USER, sql_route, API(api_checkin_offline),
	 200, "Offline check-in data retrieved successfully", BY("path.id")},
	{"POST", "/api/v1/checkin/sync", AUTH_USER, sql_route, API(api_checkin_sync),
	 200, "Scans synchronised", sync_body, .bulk = true, BY("body.event_id,code:body.scans.0.code")},

	{"POST", "/api/v1/payments/webhook/card", AUTH_PUBLIC, card_webhook_route, "api_payment_webhook",
	 "SELECT evently.api_payment_webhook($1::uuid, jsonb_build_object('provider', 'card', 'body', $2::jsonb))",
	 200, "Webhook received", NULL, true,
	 BY(WEBHOOK_KEY)},
};

const size_t route_count = sizeof(routes) / sizeof(routes[0]);

/*
 * A pattern the router cannot match would make its route answer 404 for
 * ever without a word: refuse to start instead.
 */
void
routes_check(void)
{
	for (size_t i = 0; i < route_count; i++)
	{
		const char *why = NULL;

		/* the cache keeps JSON answers of GETs that anyone may ask without a token */
		if (routes[i].public_read &&
			(strcmp(routes[i].method, "GET") != 0 || routes[i].handler != sql_route ||
			 (routes[i].auth != AUTH_PUBLIC && routes[i].auth != AUTH_OPTIONAL)))
			why = "a public read is a GET served by sql_route without a token";
		if (routes[i].name && strncmp(routes[i].name, "api_", 4) == 0 && routes[i].shard == SHARD_NONE)
			why = "an evently.api_* call needs its shard rule (BY, PLACE, GLOBAL, GLOBAL_WRAPPED, UNUSED, ALL or REPORT)";
		if (why || !pattern_fits(routes[i].pattern, &why))
		{
			fprintf(stderr, "route %s %s: %s\n", routes[i].method, routes[i].pattern, why);
			exit(2);
		}
	}
}

void
routes_init(void)
{
	routes_check();
	router_init();
	metrics_init();
	read_cache_init();
	openapi_init();
}
