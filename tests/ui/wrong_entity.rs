use airbyte_agent_stripe::{StripeAuthConfig, StripeConnector};

async fn run(stripe: StripeConnector) {
    let _ = stripe.customer().list().await;
}

fn main() {
    let _ = run(StripeConnector::new(StripeAuthConfig::new("sk_test")).unwrap());
}
