//! `ceiling_client URLS VALIDATORS [--concurrency 16]`: the polling benchmark's ceiling, a plain
//! reqwest client (the same crate and features as tributary's fetcher) doing nothing but the
//! GETs. Without VALIDATORS on disk it GETs every URL of the file URLS (one a line), reads each
//! body and writes the ETag and Last-Modified it got to VALIDATORS; with it, it sends the same
//! GETs as conditional requests (If-None-Match, If-Modified-Since). Prints one line of counts:
//! "requests 200s 304s seconds". `bench/polling.sh` times it like the feed readers it measures.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

type Validators = HashMap<String, (Option<String>, Option<String>)>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(urls_file), Some(validators_file)) = (args.first(), args.get(1)) else {
        eprintln!("usage: ceiling_client URLS VALIDATORS [--concurrency N]");
        std::process::exit(2);
    };
    let concurrency = args
        .iter()
        .position(|arg| arg == "--concurrency")
        .and_then(|index| args.get(index + 1)?.parse().ok())
        .unwrap_or(16);
    let urls: Vec<String> = std::fs::read_to_string(urls_file)?
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    let known: Validators = match std::fs::read_to_string(validators_file) {
        Ok(text) => read_validators(&text),
        Err(_) => Validators::new(),
    };
    let started = Instant::now();
    let answers = get_all(urls, Arc::new(known), concurrency).await?;
    let seconds = started.elapsed().as_secs_f64();
    let ok = answers.iter().filter(|answer| answer.1 == 200).count();
    let not_modified = answers.iter().filter(|answer| answer.1 == 304).count();
    if ok > 0 {
        std::fs::write(validators_file, write_validators(&answers))?;
    }
    println!("{} {ok} {not_modified} {seconds:.4}", answers.len());
    Ok(())
}

/// Every URL once, `concurrency` at a time: (url, status, etag, last-modified).
async fn get_all(
    urls: Vec<String>,
    known: Arc<Validators>,
    concurrency: usize,
) -> Result<Vec<(String, u16, Option<String>, Option<String>)>, reqwest::Error> {
    let client = reqwest::Client::builder().build()?;
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for url in urls {
        let (client, known, permits) = (client.clone(), known.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let mut request = client.get(&url);
            if let Some((etag, last_modified)) = known.get(&url) {
                if let Some(etag) = etag {
                    request = request.header("If-None-Match", etag);
                }
                if let Some(last_modified) = last_modified {
                    request = request.header("If-Modified-Since", last_modified);
                }
            }
            let response = request.send().await?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string)
            };
            let (etag, last_modified) = (header("etag"), header("last-modified"));
            let status = response.status().as_u16();
            response.bytes().await?;
            Ok::<_, reqwest::Error>((url, status, etag, last_modified))
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        answers.push(joined.expect("a request task panicked")?);
    }
    Ok(answers)
}

fn read_validators(text: &str) -> Validators {
    let field = |value: &str| (!value.is_empty()).then(|| value.to_string());
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let url = fields.next()?.to_string();
            Some((url, (field(fields.next()?), field(fields.next()?))))
        })
        .collect()
}

fn write_validators(answers: &[(String, u16, Option<String>, Option<String>)]) -> String {
    answers
        .iter()
        .map(|(url, _, etag, last_modified)| {
            format!(
                "{url}\t{}\t{}\n",
                etag.as_deref().unwrap_or(""),
                last_modified.as_deref().unwrap_or("")
            )
        })
        .collect()
}
