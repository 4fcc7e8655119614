//! The Stripe-shaped customer objects and list pages the mock serves (also used by the in-process
//! decode profile, `src/bin/decode_profile.rs`).

use serde_json::{Value, json};

/// One customer object shaped like Stripe's (field names and value types of the real API).
pub fn customer(i: usize) -> Value {
    let created = 1_700_000_000 + i as i64 * 3_600;
    json!({
        "id": format!("cus_Bench{i:010}"),
        "object": "customer",
        "address": {
            "city": "San Francisco",
            "country": "US",
            "line1": format!("{} Market Street", 100 + i),
            "line2": null,
            "postal_code": "94103",
            "state": "CA"
        },
        "balance": -(i as i64) * 125,
        "business_name": null,
        "cash_balance": null,
        "created": created,
        "currency": "usd",
        "customer_account": null,
        "default_currency": "usd",
        "default_source": null,
        "delinquent": i.is_multiple_of(7),
        "description": format!("Benchmark customer number {i}"),
        "discount": null,
        "email": format!("customer{i}@example.com"),
        "individual_name": null,
        "invoice_credit_balance": {},
        "invoice_prefix": format!("B{i:07X}"),
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": null,
            "footer": null,
            "rendering_options": null
        },
        "livemode": false,
        "metadata": { "plan": "pro", "seat_count": format!("{}", i % 50 + 1) },
        "name": format!("Customer {i}"),
        "next_invoice_sequence": i as i64 % 13 + 1,
        "phone": format!("+1415555{:04}", i % 10_000),
        "preferred_locales": ["en-US"],
        "shipping": {
            "address": {
                "city": "San Francisco",
                "country": "US",
                "line1": format!("{} Mission Street", 200 + i),
                "line2": "Suite 400",
                "postal_code": "94105",
                "state": "CA"
            },
            "name": format!("Customer {i}"),
            "phone": null
        },
        "tax_exempt": "none",
        "test_clock": null
    })
}

/// The body of a `GET /v1/customers?limit=n` page as the mock serves it (pretty-printed).
pub fn page_body(customers: &[Value]) -> Vec<u8> {
    let page = json!({
        "object": "list",
        "data": customers,
        "has_more": true,
        "url": "/v1/customers",
    });
    serde_json::to_vec_pretty(&page).unwrap_or_default()
}
