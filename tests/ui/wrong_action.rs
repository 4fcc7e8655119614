use airbyte_agent_stripe::{StripeAuthConfig, StripeConnector};

async fn run(stripe: StripeConnector) {
    let _ = stripe.balance().delete().await;
}

fn main() {
    let _ = run(StripeConnector::new(StripeAuthConfig::new("sk_test")).unwrap());
}
